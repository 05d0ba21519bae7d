/* libFuzzer harness: arbitrary bytes into the control protocol decoder,
 * read both as a whole frame and as a bare payload under our version and
 * another one. Whatever decodes must re-encode to something that decodes
 * to the same fields (the writer and the reader agree). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void reencode(const struct ipc_fields *f, struct ipc_writer *w)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct ipc_field *x = &f->v[i];
		switch (x->type) {
		case IPC_T_U32:
			ipc_put_u32(w, x->tag, (uint32_t)x->num);
			break;
		case IPC_T_U64:
			ipc_put_u64(w, x->tag, x->num);
			break;
		case IPC_T_STR:
			ipc_put_str(w, x->tag, x->str);
			break;
		case IPC_T_GROUP:
			ipc_group_begin(w, x->tag);
			reencode(x->group, w);
			ipc_group_end(w);
			break;
		}
	}
}

static int fields_equal(const struct ipc_fields *a, const struct ipc_fields *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		const struct ipc_field *x = &a->v[i], *y = &b->v[i];
		if (x->tag != y->tag || x->type != y->type || x->num != y->num)
			return 0;
		/* a group shrinks when it held unknown tags; values do not */
		if (x->type != IPC_T_GROUP && x->len != y->len)
			return 0;
		if (x->type == IPC_T_STR && strcmp(x->str, y->str) != 0)
			return 0;
		if (x->type == IPC_T_GROUP && !fields_equal(x->group, y->group))
			return 0;
	}
	return 1;
}

static void check_roundtrip(const struct ipc_msg *m)
{
	struct ipc_writer w;
	uint8_t *buf;
	size_t len;
	struct ipc_msg *m2;

	/* Unknown tags were dropped by the decoder, so the re-encoded frame
	 * is no larger than the input and must fit. */
	ipc_writer_init(&w, m->hdr.type, m->hdr.flags, m->hdr.id);
	w.version = m->hdr.version;
	reencode(&m->fields, &w);
	if (ipc_writer_finish(&w, &buf, &len) < 0)
		abort();
	if (ipc_frame_decode(buf, len, &m2) < 0)
		abort();
	if (!fields_equal(&m->fields, &m2->fields))
		abort();
	ipc_msg_free(m2);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipc_msg *m;
	struct ipc_hdr h;

	if (ipc_hdr_decode(data, size, &h) == 0) {
		(void)ipc_hdr_check(&h);
		if (ipc_frame_decode(data, size, &m) == 0) {
			check_roundtrip(m);
			ipc_msg_free(m);
		}
	}

	/* The same bytes as a payload, for both decoding tables. */
	if (size <= IPC_MAX_PAYLOAD) {
		struct ipc_hdr p = { .version = IPC_PROTO_VERSION, .type = IPC_MSG_LOGIN,
				     .len = (uint32_t)size };
		if (ipc_msg_decode(&p, data, size, &m) == 0) {
			check_roundtrip(m);
			ipc_msg_free(m);
		}
		p.version = IPC_PROTO_VERSION + 1;
		if (ipc_msg_decode(&p, data, size, &m) == 0) {
			if (ipc_count(&m->fields, IPC_TAG_STATUS) > 1)
				abort();
			ipc_msg_free(m);
		}
	}
	return 0;
}
