const char *alpha(void) { return "alpha"; }
