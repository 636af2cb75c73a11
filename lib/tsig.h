/* SPDX-License-Identifier: MIT */
#pragma once

/* TSIG (RFC 8945) with hmac-sha256: the key, read from a BIND key file as tsig-keygen
 * writes it, signing a message and checking the signature of one.
 *
 *     key "acme-update" {
 *             algorithm hmac-sha256;
 *             secret "base64…";
 *     };
 *
 * The secret never appears in an error text, and is wiped from memory when the key is
 * freed. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns-packet.h"
#include "macro.h"

#define TSIG_ALGORITHM "hmac-sha256"
#define TSIG_MAC_SIZE 32
/* Seconds of clock difference allowed between signer and verifier. */
#define TSIG_FUDGE 300
/* Refuse key files larger than this. */
#define TSIG_KEY_FILE_MAX (64 * 1024)

typedef struct TsigKey {
        char *name;          /* the key name, normalised (lower case, no trailing dot) */
        uint8_t *secret;
        size_t secret_size;
} TsigKey;

/* A key from its parts (the name must be a valid DNS name, the secret not empty).
 * Returns 0, -EINVAL, -ENOMEM. */
int tsig_key_new(const char *name, const void *secret, size_t secret_size, TsigKey **ret);
int tsig_key_copy(const TsigKey *k, TsigKey **ret);
TsigKey *tsig_key_free(TsigKey *k);
DEFINE_TRIVIAL_CLEANUP_FUNC(TsigKey *, tsig_key_free);

/* Parse the text of a key file holding exactly one key statement. Comments (# … and
 * // … to the end of the line, / * … * /) and whitespace go anywhere between tokens;
 * the name, algorithm and secret may be quoted or not. Only hmac-sha256 is accepted.
 * Returns 0, -EINVAL with *ret_error (if ret_error is not NULL) set to a reason like
 * "line 3: …", or -ENOMEM. */
int tsig_key_parse(const char *text, size_t len, TsigKey **ret, char **ret_error);
/* Read and parse a key file. Errors as tsig_key_parse(), plus those of reading the file
 * (-ENOENT, -EACCES, -EFBIG, …, with a reason naming the file). */
int tsig_key_load(const char *path, TsigKey **ret, char **ret_error);

/* Sign the message *msg (size bytes): append a TSIG record with the MAC over
 * [request MAC,] the message and the TSIG variables, and add one to ARCOUNT. now is the
 * time signed (seconds since the epoch); request_mac is NULL to sign a request, or the
 * request's MAC to sign a response to it; error is the TSIG Error field (0 normally).
 * On success *msg and *size are replaced and, if ret_mac is not NULL, the MAC is
 * stored there (TSIG_MAC_SIZE bytes), to check the response with. Returns 0, -EINVAL,
 * -EMSGSIZE, -ENOMEM or -EIO. */
int tsig_sign(const TsigKey *key, uint64_t now, const uint8_t *request_mac, size_t request_mac_size, uint16_t error,
              uint8_t **msg, size_t *size, uint8_t *ret_mac);

/* The fields of a message's TSIG record. */
typedef struct TsigInfo {
        uint64_t time_signed;
        uint16_t fudge;
        uint16_t mac_size;
        uint16_t original_id;
        uint16_t error;      /* 0, or BADSIG, BADKEY, BADTIME, … */
} TsigInfo;

/* Read the TSIG record of msg, parsed as m, without checking it (an answer reporting
 * BADSIG or BADKEY is not signed: its MAC is empty). Returns 0, -ENOMSG if there is no
 * TSIG record, -EBADMSG if it is malformed. */
int tsig_info(const uint8_t *msg, size_t size, const DnsMessage *m, TsigInfo *ret);

/* Check the TSIG record of msg (size bytes, parsed as m) with key: request_mac NULL for
 * a request, else the MAC of the request this answers. now is the current time.
 * Returns 0 when the record names the key and algorithm, the MAC is right and the time
 * within the fudge (*ret_error, if not NULL, then gets the record's Error field);
 * -ENOMSG if the message is not signed; -EBADMSG if the record is malformed; -ENOKEY if
 * it names another key or algorithm; -EKEYREJECTED if the MAC is wrong or empty;
 * -EKEYEXPIRED if the time signed is more than the fudge (at most TSIG_FUDGE) away. */
int tsig_verify(const TsigKey *key, const uint8_t *request_mac, size_t request_mac_size, const uint8_t *msg,
                size_t size, const DnsMessage *m, uint64_t now, uint16_t *ret_error);
