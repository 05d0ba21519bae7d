/* iscsi-iname: print a fresh, unique iSCSI initiator name.
 *
 *   iscsi-iname [-g] [-p prefix]
 *   iscsi-iname -c [-p prefix] [FILE]
 *
 * -p  naming-authority prefix (default INAME_DEFAULT_PREFIX); the result
 *     is "<prefix>:<12 random hex digits>" and must be a valid iSCSI name
 * -g  print "InitiatorName=<name>", ready for initiatorname.iscsi
 * -c  create FILE (default: the initiator name file, /etc/iscsi/
 *     initiatorname.iscsi or $ISCSI_ROOT/initiatorname.iscsi) with a fresh
 *     name unless something has that name already; an existing file is
 *     never replaced or changed. Exit 0 when created or already there
 *     (silently: the systemd unit runs it on every boot). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iname.h"
#include "paths.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: iscsi-iname [-g] [-p prefix]\n"
		   "       iscsi-iname -c [-p prefix] [FILE]\n"
		   "Print a new unique iSCSI initiator name.\n"
		   "  -p, --prefix=PREFIX  naming authority (default %s)\n"
		   "  -g, --generate       print as InitiatorName=<name>\n"
		   "  -c, --create         write InitiatorName=<new name> to FILE (default\n"
		   "                       %s/initiatorname.iscsi) unless it exists;\n"
		   "                       an existing file is never changed\n"
		   "  -h, --help           this text\n",
		INAME_DEFAULT_PREFIX, PATHS_DEFAULT_CONFIG_DIR);
}

static int create_file(const char *prefix, const char *file, int nargs)
{
	struct iscsi_paths paths;
	struct initiator_name n;

	if (nargs > 1) {
		usage(stderr);
		return EXIT_FAILURE;
	}
	if (!file) {
		int r = paths_init(&paths, NULL);
		if (r < 0) {
			fprintf(stderr, "iscsi-iname: cannot use $%s: %s\n", PATHS_ENV_ROOT,
				r == -EINVAL ? "not an absolute path" : strerror(-r));
			return EXIT_FAILURE;
		}
		file = paths.iname_file;
	}
	int r = iname_create(file, prefix, &n);
	if (r == -EEXIST)
		return EXIT_SUCCESS;
	if (r == -EINVAL && prefix) {
		fprintf(stderr, "iscsi-iname: prefix does not make a valid iSCSI name (expected e.g. "
				"iqn.YYYY-MM.com.example[:text])\n");
		return EXIT_FAILURE;
	}
	if (r < 0) {
		fprintf(stderr, "iscsi-iname: cannot create %s: %s\n", file, strerror(-r));
		return EXIT_FAILURE;
	}
	if (printf("iscsi-iname: created %s with the unique name %s\n", file, n.name) < 0 || fflush(stdout) != 0)
		return EXIT_FAILURE;
	return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "prefix", required_argument, NULL, 'p' },
		{ "generate", no_argument, NULL, 'g' },
		{ "create", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *prefix = NULL;
	int gen = 0, create = 0, c;
	char name[NAME_MAX_LEN + 1];

	while ((c = getopt_long(argc, argv, "p:gch", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			prefix = optarg;
			break;
		case 'g':
			gen = 1;
			break;
		case 'c':
			create = 1;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return EXIT_FAILURE;
		}
	}
	if (create)
		return create_file(prefix, optind < argc ? argv[optind] : NULL, argc - optind);
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
