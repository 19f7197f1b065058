/* hearthctl: the operator's tool. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void help(void)
{
        printf("Usage: hearthctl COMMAND [ARGS]\n"
               "\n"
               "Commands:\n"
               "  help                 this text\n");
}

int main(int argc, char **argv)
{
        if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) {
                help();
                return argc < 2 ? 2 : 0;
        }
        fprintf(stderr, "hearthctl: unknown command '%s'\nTry 'hearthctl help'.\n", argv[1]);
        return 2;
}
