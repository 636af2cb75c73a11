/* SPDX-License-Identifier: MIT */
#pragma once

/* The Varlink wire codec (https://varlink.org), without any I/O: framing of a byte stream
 * into messages, strict parsing of calls and replies, building of calls, replies and
 * errors, a parameter dispatcher, and the org.varlink.service interface. The server
 * (daemon/) and the client (ctl/) own the sockets and feed bytes through this.
 *
 * On the wire every message is one JSON object followed by a NUL byte. A call is
 *     {"method": "io.renewd.List", "parameters": {...}, "more": true}
 * a reply {"parameters": {...}, "continues": true} or an error
 *     {"error": "io.renewd.NoSuchCertificate", "parameters": {...}}.
 *
 * Strictness (a message breaking a rule is a protocol error, -EBADMSG, and the peer is to
 * be dropped): unknown top-level keys, duplicate keys, wrong types, an invalid method or
 * error name, "more" together with "oneway", "continues" together with "error", and
 * "continues" on a call that did not ask for "more". JSON null stands for an absent key
 * (the spec declares every key but "method" nullable); absent, null and {} "parameters"
 * are the same empty object. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "macro.h"

/* The default size cap of one message, its NUL included. */
#define VARLINK_MESSAGE_SIZE_DEFAULT (64U * 1024U)
/* The largest cap a reader accepts (what json_parse_object() takes). */
#define VARLINK_MESSAGE_SIZE_LIMIT (16U * 1024U * 1024U)

/* Errors of the org.varlink.service interface. */
#define VARLINK_ERROR_INTERFACE_NOT_FOUND    "org.varlink.service.InterfaceNotFound"    /* (interface) */
#define VARLINK_ERROR_METHOD_NOT_FOUND       "org.varlink.service.MethodNotFound"       /* (method) */
#define VARLINK_ERROR_METHOD_NOT_IMPLEMENTED "org.varlink.service.MethodNotImplemented" /* (method) */
#define VARLINK_ERROR_INVALID_PARAMETER      "org.varlink.service.InvalidParameter"     /* (parameter) */
#define VARLINK_ERROR_PERMISSION_DENIED      "org.varlink.service.PermissionDenied"     /* () */
#define VARLINK_ERROR_EXPECTED_MORE          "org.varlink.service.ExpectedMore"         /* () */

#define VARLINK_SERVICE_INTERFACE "org.varlink.service"

/* The description of org.varlink.service in Varlink IDL, for GetInterfaceDescription. */
extern const char varlink_service_interface_description[];

/* ---- Names ---- */

/* An interface name: reverse-domain, at least two dot-separated labels of ASCII letters and
 * digits with dashes inside a label ("io.renewd", "org.varlink.service", "com.example-1.x").
 * The first character is a letter. At most 255 characters. */
bool varlink_interface_name_is_valid(const char *name);

/* An interface-qualified method (or error) name: a valid interface name, a dot, and a
 * member name of an upper-case ASCII letter followed by letters and digits ("io.renewd.List",
 * "org.varlink.service.GetInfo"; not "io.renewd" (interface "io" has one label), not
 * "io.renewd.list"). At most 255 characters in all. */
bool varlink_method_name_is_valid(const char *name);

/* ---- Framing ---- */

/* Splits a byte stream into messages. Bytes go in with varlink_reader_feed() in chunks of
 * any size; varlink_reader_next() takes out one parsed message at a time, in order.
 *
 * The cap bounds a whole message, its NUL included: with cap N a JSON text of N-1 bytes is
 * accepted and one of N bytes refused. An unterminated message is refused as soon as N
 * bytes of it are in without a NUL, so no more than N-1 bytes of an incomplete message are
 * ever held (complete messages fed together wait until taken out).
 *
 * Errors are reported by varlink_reader_next() in stream order (the messages before the
 * offending one are still delivered): -E2BIG for a message over the cap, -EBADMSG for an
 * empty message, text that is not JSON (or not strict JSON, see json_parse_object()), or
 * JSON that is not an object. A stream cannot be resynchronised after that: the reader is
 * broken, drops everything it holds, next() keeps returning the error and feed() discards
 * its input. */
typedef struct VarlinkReader VarlinkReader;

/* max_size is the cap (0 for VARLINK_MESSAGE_SIZE_DEFAULT); -EINVAL if it is below 3 (the
 * smallest message is "{}" and NUL) or above VARLINK_MESSAGE_SIZE_LIMIT. */
int varlink_reader_new(size_t max_size, VarlinkReader **ret);
VarlinkReader *varlink_reader_free(VarlinkReader *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(VarlinkReader *, varlink_reader_free);

/* Append len bytes. Returns 0, or -ENOMEM (nothing appended), -EINVAL. */
int varlink_reader_feed(VarlinkReader *r, const void *data, size_t len);

/* Returns 1 with the next message (an object; the caller frees it), 0 when more input is
 * needed, or a negative errno as described above. */
int varlink_reader_next(VarlinkReader *r, cJSON **ret);

/* Bytes held: complete messages not yet taken out plus the incomplete one. */
size_t varlink_reader_buffered(const VarlinkReader *r);
/* Bytes of the incomplete message at the end, always below the cap. */
size_t varlink_reader_pending(const VarlinkReader *r);
/* The reader's error once it is broken, else 0. */
int varlink_reader_error(const VarlinkReader *r);

/* ---- Calls ---- */

typedef struct VarlinkCall {
        char *method;
        cJSON *parameters;      /* always an object */
        bool more, oneway, upgrade;
} VarlinkCall;

/* Parse a call message (server side). Keys: "method" (a string, mandatory, a valid
 * method name), "parameters" (object or null), "more", "oneway", "upgrade" (booleans or
 * null). -EBADMSG for anything else, for "more" with "oneway", and for "upgrade" with
 * either (an upgrade takes exactly one reply). "upgrade" is only parsed: servers that do
 * not implement it refuse such calls. *ret is filled only on success; free its members
 * with varlink_call_done(). */
int varlink_call_parse(const cJSON *message, VarlinkCall *ret);
void varlink_call_done(VarlinkCall *c);

/* Build a call (client side): the JSON text and its NUL in a new buffer of *ret_len bytes
 * (so *ret is also a C string of *ret_len-1 characters). parameters may be NULL for none;
 * otherwise it must be an object. -EINVAL for an invalid method name, a non-object
 * parameters, or more with oneway. */
int varlink_call_build(const char *method, const cJSON *parameters, bool more, bool oneway,
                       char **ret, size_t *ret_len);

/* ---- Replies ---- */

typedef struct VarlinkReply {
        cJSON *parameters;      /* always an object */
        char *error;            /* NULL unless the call failed */
        bool continues;
} VarlinkReply;

/* Parse a reply message (client side) to a call made with or without "more". Keys:
 * "parameters" (object or null), "error" (a valid qualified name, or null), "continues"
 * (boolean or null). -EBADMSG for anything else, for "continues" with "error" (an error
 * ends a call), and for "continues" when more is false. Free with varlink_reply_done(). */
int varlink_reply_parse(const cJSON *message, bool more, VarlinkReply *ret);
void varlink_reply_done(VarlinkReply *r);

/* Build a reply (server side), NUL-terminated as varlink_call_build(). parameters may be
 * NULL for {}; "continues": true is added when continues is set. */
int varlink_reply(const cJSON *parameters, bool continues, char **ret, size_t *ret_len);

/* Build an error reply. error_name must be a valid qualified name (-EINVAL otherwise). */
int varlink_error(const char *error_name, const cJSON *parameters, char **ret, size_t *ret_len);

/* org.varlink.service.InvalidParameter with {"parameter": name}. */
int varlink_error_invalid_parameter(const char *name, char **ret, size_t *ret_len);
/* org.varlink.service.MethodNotFound with {"method": method}. */
int varlink_error_method_not_found(const char *method, char **ret, size_t *ret_len);

/* ---- Parameter dispatch ---- */

typedef enum VarlinkFieldType {
        VARLINK_FIELD_STRING,   /* const char *, borrowed from the parameters object */
        VARLINK_FIELD_BOOL,     /* bool */
        VARLINK_FIELD_INT64,    /* int64_t; an integral number of magnitude <= 2^53 */
        VARLINK_FIELD_STRV,     /* char **, an array of strings, copied: the member must be NULL
                                 * or owned, as a previous value is freed with strv_free() */
        VARLINK_FIELD_OBJECT,   /* const cJSON *, an object, borrowed */
        _VARLINK_FIELD_TYPE_MAX,
} VarlinkFieldType;

typedef struct VarlinkField {
        const char *name;
        VarlinkFieldType type;
        bool required;
        size_t offset;          /* of the member in the target struct (offsetof()) */
} VarlinkField;

/* Check parameters (an object) against a table of n fields and store the values into the
 * struct at target. A key that is absent or null leaves its member untouched (so set the
 * defaults before), unless the field is required.
 *
 * Returns 0, or -EBADMSG with *reterr_field naming the offending parameter (borrowed from
 * the table or from parameters), for the org.varlink.service.InvalidParameter reply: a
 * key not in the table, a key given twice, a value of the wrong type, a required field
 * missing or null. Nothing is stored unless all of it is valid. -EINVAL for a bad table or
 * a parameters that is not an object (the call parser never gives one), -ENOMEM. */
int varlink_dispatch(const cJSON *parameters, const VarlinkField *table, size_t n, void *target,
                     const char **reterr_field);

/* ---- org.varlink.service ---- */

/* The parameters of the GetInfo reply: {"vendor", "product", "version", "url",
 * "interfaces"}. The interface list is sorted, without duplicates, and always holds
 * org.varlink.service. -EINVAL for a NULL string or an invalid interface name. */
int varlink_get_info_build(const char *vendor, const char *product, const char *version, const char *url,
                           char *const *interfaces, cJSON **ret);
