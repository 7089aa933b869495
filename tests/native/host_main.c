/* Host driver for the generated native model: reads input tensors (TG_INPUT_BYTES each) from
 * stdin, runs the model on each and writes the raw output tensors to stdout. */
#include <stdio.h>

#include "tg_model.h"

int main(void)
{
    while (fread(TG_INPUT, 1, TG_INPUT_BYTES, stdin) == TG_INPUT_BYTES) {
        tg_model_run();
        if (fwrite(TG_OUTPUT, 1, TG_OUTPUT_BYTES, stdout) != TG_OUTPUT_BYTES) {
            return 1;
        }
    }
    return 0;
}
