/* cli: the subcommands of the cairn binary, one file each (git's model). */
#ifndef CN_CLI_H
#define CN_CLI_H

int cn_cmd_server(int argc, char **argv);
int cn_cmd_agent(int argc, char **argv);
int cn_cmd_image(int argc, char **argv);
int cn_cmd_host(int argc, char **argv);

#endif
