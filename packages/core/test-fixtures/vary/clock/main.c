#include <stdio.h>

int main(void) {
    printf("built on %s\n", __DATE__);
    return 0;
}
