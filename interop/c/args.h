/* Command-line helpers shared by the C examples. */
#ifndef OSSUARY_EXAMPLE_ARGS_H
#define OSSUARY_EXAMPLE_ARGS_H

#include <string.h>

#include <ossuary.h>

/* Removes "NAME VALUE" from the arguments and returns VALUE, or NULL when absent. */
static inline const char *take_option(int *argc, char **argv, const char *name) {
    for (int i = 1; i + 1 < *argc; i++) {
        if (strcmp(argv[i], name) == 0) {
            const char *value = argv[i + 1];
            for (int j = i; j + 2 <= *argc; j++) argv[j] = argv[j + 2];
            *argc -= 2;
            return value;
        }
    }
    return NULL;
}

/* "--pq off|preferred|required" as OSSUARY_PQ_*, or -1 for anything else; OSSUARY_PQ_OFF when absent. */
static inline int post_quantum_policy(const char *value) {
    if (!value || strcmp(value, "off") == 0) return OSSUARY_PQ_OFF;
    if (strcmp(value, "preferred") == 0) return OSSUARY_PQ_PREFERRED;
    if (strcmp(value, "required") == 0) return OSSUARY_PQ_REQUIRED;
    return -1;
}

#endif
