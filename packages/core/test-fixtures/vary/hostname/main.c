#include <stdio.h>

int main(void) {
    printf("built on host %s\n", BUILD_HOST);
    return 0;
}
