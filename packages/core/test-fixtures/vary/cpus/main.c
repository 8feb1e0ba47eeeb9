#include <stdio.h>

int main(void) {
    printf("built with %d CPUs\n", CPUS);
    return 0;
}
