/*
 * tinygen MLPerf Tiny harness: the board-independent libc wrappers of th_api.h.
 */
#include <stdlib.h>
#include <string.h>

#include "th_api.h"

int th_strncmp(const char *str1, const char *str2, size_t n)
{
    return strncmp(str1, str2, n);
}

char *th_strncpy(char *dest, const char *src, size_t n)
{
    return strncpy(dest, src, n);
}

/* strnlen is POSIX, not C99, and hidden by -std=c99 on some C libraries: count by hand. */
size_t th_strnlen(const char *str, size_t maxlen)
{
    size_t len = 0;
    while (len < maxlen && str[len] != '\0') {
        len++;
    }
    return len;
}

char *th_strcat(char *dest, const char *src)
{
    return strcat(dest, src);
}

char *th_strtok(char *str, const char *sep)
{
    return strtok(str, sep);
}

int th_atoi(const char *str)
{
    return atoi(str);
}

void *th_memset(void *dest, int value, size_t n)
{
    return memset(dest, value, n);
}

void *th_memcpy(void *dest, const void *src, size_t n)
{
    return memcpy(dest, src, n);
}
