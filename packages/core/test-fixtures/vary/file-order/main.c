#include <stdio.h>

const char *alpha(void);
const char *beta(void);
const char *gamma_(void);

int main(void) {
    printf("%s %s %s\n", alpha(), beta(), gamma_());
    return 0;
}
