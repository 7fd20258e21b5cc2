/* main: the cairn command; dispatches to one file per subcommand. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        printf("usage: cairn <command> [flags]\n\ncommands:\n  server   run a Kubernetes API server\n");
        return argc < 2 ? 2 : 0;
    }
    fprintf(stderr, "cairn: unknown command \"%s\"\n", argv[1]);
    return 2;
}
