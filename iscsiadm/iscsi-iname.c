/* iscsi-iname: print a fresh, unique iSCSI initiator name.
 *
 *   iscsi-iname [-g] [-p prefix]
 *
 * -p  naming-authority prefix (default INAME_DEFAULT_PREFIX); the result
 *     is "<prefix>:<12 random hex digits>" and must be a valid iSCSI name
 * -g  print "InitiatorName=<name>", ready for initiatorname.iscsi */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iname.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: iscsi-iname [-g] [-p prefix]\n"
		   "Print a new unique iSCSI initiator name.\n"
		   "  -p, --prefix=PREFIX  naming authority (default %s)\n"
		   "  -g, --generate       print as InitiatorName=<name>\n"
		   "  -h, --help           this text\n",
		INAME_DEFAULT_PREFIX);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "prefix", required_argument, NULL, 'p' },
		{ "generate", no_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *prefix = NULL;
	int gen = 0, c;
	char name[NAME_MAX_LEN + 1];

	while ((c = getopt_long(argc, argv, "p:gh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			prefix = optarg;
			break;
		case 'g':
			gen = 1;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return EXIT_FAILURE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EXIT_FAILURE;
	}
	int r = iname_generate(prefix, name, sizeof(name));
	if (r == -EINVAL) {
		fprintf(stderr, "iscsi-iname: prefix does not make a valid iSCSI name (expected e.g. "
				"iqn.YYYY-MM.com.example[:text])\n");
		return EXIT_FAILURE;
	}
	if (r < 0) {
		fprintf(stderr, "iscsi-iname: cannot generate a name: %s\n", strerror(-r));
		return EXIT_FAILURE;
	}
	if (printf("%s%s\n", gen ? "InitiatorName=" : "", name) < 0 || fflush(stdout) != 0)
		return EXIT_FAILURE;
	return EXIT_SUCCESS;
}
