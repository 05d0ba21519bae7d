/* Hostile record files (any file under the node database may have been
 * written by another tool, truncated, or planted). The first byte picks
 * the kind (node, discovery, iface); the rest is the file. Whatever
 * parses must print, and the disk form must be a fixed point after one
 * round trip: parse(format(r)) formats to the same text. The first line
 * is also tried as a `-o update` key = value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "record.h"

union anyrec {
	struct node_rec node;
	struct discovery_rec disc;
	struct iface_rec iface;
};

static void init(enum rec_kind kind, union anyrec *r)
{
	switch (kind) {
	case REC_KIND_NODE:
		node_rec_init(&r->node);
		break;
	case REC_KIND_DISCOVERY:
		discovery_rec_init(&r->disc, REC_DISC_SENDTARGETS);
		break;
	case REC_KIND_IFACE:
		iface_rec_init(&r->iface, "default");
		break;
	}
}

static char *reparse(enum rec_kind kind, const char *text, size_t len, union anyrec *r)
{
	char *out;
	size_t olen;

	init(kind, r);
	CHECK(rec_parse(kind, r, text, len, NULL, NULL) == 0);
	CHECK(rec_format(kind, r, REC_FMT_DISK, &out, &olen) == 0);
	CHECK(strlen(out) == olen);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	enum rec_kind kind = (enum rec_kind)(data[0] % 3);
	const char *text = (const char *)data + 1;
	size_t len = size - 1;
	union anyrec *r = malloc(sizeof(*r));
	struct rec_diags d;
	char *show, *disk;
	size_t slen, dlen;

	rec_diags_init(&d);
	init(kind, r);
	if (rec_parse(kind, r, text, len, "fuzz", &d) == 0) {
		CHECK(rec_format(kind, r, REC_FMT_SHOW, &show, &slen) == 0);
		CHECK(strncmp(show, REC_BEGIN " " REC_VERSION "\n", strlen(REC_BEGIN) + 7) == 0);
		free(show);
		CHECK(rec_format(kind, r, REC_FMT_DISK, &disk, &dlen) == 0);
		char *once = reparse(kind, disk, dlen, r);
		char *twice = reparse(kind, once, strlen(once), r);
		CHECK(strcmp(once, twice) == 0);
		free(once);
		free(twice);
		free(disk);
	} else {
		CHECK(rec_diags_count(&d, REC_DIAG_ERROR) > 0 || d.dropped > 0);
	}
	for (size_t i = 0; i < d.n; i++) {
		char line[512];
		rec_diag_format(&d.v[i], line, sizeof(line));
	}
	rec_diags_free(&d);

	/* First line as an update. */
	char line[REC_LINE_MAX];
	size_t l = 0;
	while (l < len && l < sizeof(line) - 1 && text[l] != '\n' && text[l] != '\0') {
		line[l] = text[l];
		l++;
	}
	line[l] = '\0';
	char *key, *value, err[256];
	init(kind, r);
	if (rec_split_line(line, &key, &value) == 1) {
		(void)rec_set(kind, r, key, value, REC_SET_UPDATE, err, sizeof(err));
		char buf[300];
		(void)rec_get(kind, r, key, false, buf, sizeof(buf));
	}
	free(r);
	return 0;
}
