/* A second example for reprokit: not Rust, built with the pinned c-builder environment. */
#include <stdio.h>

int main(void) {
    puts("Hello from C, reproducibly.");
    return 0;
}
