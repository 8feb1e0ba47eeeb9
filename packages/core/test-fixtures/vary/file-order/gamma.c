const char *gamma_(void) { return "gamma"; }
