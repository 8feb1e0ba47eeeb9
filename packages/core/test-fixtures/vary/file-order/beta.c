const char *beta(void) { return "beta"; }
