/* Hostile iscsid.conf and initiatorname.iscsi text. The first byte picks
 * the parser. A config that parses must yield templates that print and
 * make valid node records; a name file that parses must hold a valid
 * name. Failures must come with an error diagnostic. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "config.h"
#include "iname.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *text = (const char *)data + 1;
	size_t len = size - 1;
	struct rec_diags d;

	rec_diags_init(&d);
	if (data[0] & 1) {
		struct initiator_name n;
		if (iname_parse(text, len, "f", &n, &d) == 0) {
			CHECK(name_validate(n.name, NULL, 0) == 0);
			CHECK(strlen(n.alias) <= INAME_ALIAS_MAX);
		} else {
			CHECK(rec_diags_count(&d, REC_DIAG_ERROR) > 0 || d.dropped > 0);
		}
	} else {
		struct iscsi_config *c = malloc(sizeof(*c));
		struct node_rec *r = malloc(sizeof(*r));
		if (config_parse(text, len, "f", c, &d) == 0) {
			char *out, err[200];
			size_t olen;
			CHECK(rec_format(REC_KIND_NODE, &c->node, REC_FMT_SHOW, &out, &olen) == 0);
			free(out);
			CHECK(rec_format(REC_KIND_DISCOVERY, &c->sendtargets, REC_FMT_DISK, &out, &olen) == 0);
			free(out);
			CHECK(node_rec_from_template(&c->node, "iqn.2001-04.com.example:t", "192.0.2.1", 3260, 1, NULL, r,
						     err, sizeof(err)) == 0);
			/* Config values obey the update ranges. */
			CHECK(r->session.cmds_max >= 2 && r->session.cmds_max <= 2048);
			CHECK(r->session.queue_depth >= 1 && r->session.queue_depth <= 1024);
		} else {
			CHECK(rec_diags_count(&d, REC_DIAG_ERROR) > 0 || d.dropped > 0);
		}
		free(r);
		free(c);
	}
	rec_diags_free(&d);
	return 0;
}
