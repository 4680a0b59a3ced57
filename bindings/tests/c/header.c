/* The generated Swift module's C header (playheadFFI.h), compiled and linked by gcc and
 * driven the way the Swift wrapper drives it: no Swift compiler exists on Linux CI here, so
 * this proves the header declares what the library exports and that the calling convention
 * works (status codes, RustBuffers, object handles). Exits non-zero on any mismatch. */
#include <stdio.h>
#include <string.h>

#include "playheadFFI.h"

static int failures = 0;

static void expect(int ok, const char *what) {
    printf("%s - %s\n", ok ? "ok" : "not ok", what);
    if (!ok) failures++;
}

static RustBuffer bytes(const uint8_t *data, uint64_t len, RustCallStatus *st) {
    RustBuffer b = ffi_playhead_ffi_rustbuffer_alloc(len, st);
    memcpy(b.data, data, len);
    b.len = len;
    return b;
}

static uint32_t be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

int main(void) {
    RustCallStatus st;
    memset(&st, 0, sizeof st);
    expect(ffi_playhead_ffi_uniffi_contract_version() == 30, "contract version 30 (UniFFI 0.32)");

    RustBuffer v = uniffi_playhead_ffi_fn_func_playhead_version(&st);
    /* A String return is a serialized string: its UTF-8 bytes. */
    expect(st.code == 0 && v.len > 0, "playhead_version()");
    printf("# playhead %.*s\n", (int)v.len, (const char *)v.data);
    ffi_playhead_ffi_rustbuffer_free(v, &st);

    /* default_config() -> Config, handed back unchanged to Player(config, nil, .error). */
    RustBuffer config = uniffi_playhead_ffi_fn_func_default_config(&st);
    expect(st.code == 0 && config.len > 20, "default_config()");
    const uint8_t none = 0;                          /* Option<LogSink>: None */
    const uint8_t error_level[4] = {0, 0, 0, 4};      /* LogLevel.error: 4th variant */
    RustBuffer log = bytes(&none, 1, &st);
    RustBuffer level = bytes(error_level, 4, &st);
    uint64_t player = uniffi_playhead_ffi_fn_constructor_player_new(config, log, level, &st);
    expect(st.code == 0 && player != 0, "Player(config, nil, .error)");

    /* A method call consumes one reference: clone before each call. */
    uint64_t h = uniffi_playhead_ffi_fn_clone_player(player, &st);
    RustBuffer out = uniffi_playhead_ffi_fn_method_player_poll_output(h, &st);
    /* Output.timeout(nil): variant 8 (1-based, big-endian i32), then Option None. */
    expect(st.code == 0 && out.len == 5 && be32(out.data) == 8 && out.data[4] == 0,
           "a fresh player's poll_output() is Output.timeout(nil)");

    /* Hand the output back: describe_output(timeout) is nil (a 1-byte None). */
    RustBuffer line = uniffi_playhead_ffi_fn_func_describe_output(out, &st);
    expect(st.code == 0 && line.len == 1 && line.data[0] == 0, "describe_output(.timeout) is nil");
    ffi_playhead_ffi_rustbuffer_free(line, &st);

    h = uniffi_playhead_ffi_fn_clone_player(player, &st);
    expect(uniffi_playhead_ffi_fn_method_player_callback_failures(h, &st) == 0 && st.code == 0,
           "callback_failures() == 0");

    /* A malformed buffer is an error status, not a crash: a LogLevel variant 9. */
    RustBuffer config2 = uniffi_playhead_ffi_fn_func_default_config(&st);
    const uint8_t bad_level[4] = {0, 0, 0, 9};
    RustBuffer log2 = bytes(&none, 1, &st);
    RustBuffer level2 = bytes(bad_level, 4, &st);
    RustCallStatus bad;
    memset(&bad, 0, sizeof bad);
    (void)uniffi_playhead_ffi_fn_constructor_player_new(config2, log2, level2, &bad);
    expect(bad.code != 0, "a bad enum value gives an error status");
    if (bad.errorBuf.data) ffi_playhead_ffi_rustbuffer_free(bad.errorBuf, &st);

    uniffi_playhead_ffi_fn_free_player(player, &st);
    expect(st.code == 0, "free");
    printf("c: %d failed\n", failures);
    return failures == 0 ? 0 : 1;
}
