/*
 * Test stand-in for the tinygen_config.h that tinygen's code generator writes. Each value can be
 * overridden with -D so that tests build variants (small command buffer, small db buffer).
 */
#ifndef TINYGEN_CONFIG_H
#define TINYGEN_CONFIG_H

#ifndef TH_MODEL_VERSION
#define TH_MODEL_VERSION "kws01"
#endif
#ifndef TH_VENDOR_NAME_STRING
#define TH_VENDOR_NAME_STRING "tinygen host test"
#endif
#ifndef MAX_DB_INPUT_SIZE
#define MAX_DB_INPUT_SIZE 490
#endif
#ifndef EE_CFG_ENERGY_MODE
#define EE_CFG_ENERGY_MODE 0
#endif
/* EE_CMD_SIZE is left to the harness default (80) unless given with -D. */

#endif /* TINYGEN_CONFIG_H */
