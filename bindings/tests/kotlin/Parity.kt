// The conformance scenarios replayed through the Kotlin binding, and the API as an Android
// host uses it. Run by `cargo xtask bindings`: `java ... ParityKt <fixtures dir>`; prints one
// TAP line per test and exits non-zero when any fails.

import dev.playhead.*
import java.io.File
import kotlin.system.exitProcess

private val tests = mutableListOf<Pair<String, () -> Unit>>()

private fun test(name: String, body: () -> Unit) {
    tests += name to body
}

private fun check(condition: Boolean, message: () -> String) {
    if (!condition) throw AssertionError(message())
}

private fun stamp(mono: Long) = String.format("%5d.%03d", mono / 1_000_000, mono % 1_000_000 / 1000)

private fun statsLine(s: Stats): String {
    val errors = s.errors.joinToString(",") { "${it.errorClass.name.lowercase().replace('_', '-')}:${it.count}" }
    val bytes = s.bytesByCdn.joinToString(",") { "${it.cdn}:${it.bytes}" }
    return "stats startup=${s.startupTime ?: "-"} stalls=${s.stallCount} stall_time=${s.stallTime} " +
        "play_time=${s.playTime} switches=${s.switchCount} average_bitrate=${s.averageBitrate} " +
        "retries=${s.retries} location_changes=${s.locationChanges} cdn=${s.cdn ?: "-"} " +
        "errors=[$errors] bytes=[$bytes]"
}

/** Feeds every recorded input to a binding player; the transcript, as the native run prints it. */
private fun replay(recording: Recording): Pair<List<String>, List<Output>> {
    val lines = mutableListOf<String>()
    val outputs = mutableListOf<Output>()
    Player(recording.config, null, LogLevel.ERROR).use { player ->
        for (timed in recording.inputs) {
            try {
                player.handleInput(timed.now, timed.input)
            } catch (e: PlayerException.InvalidInput) {
                lines += "${stamp(timed.now.mono)} input refused: ${e.reason}"
            }
            while (true) {
                val out = player.pollOutput()
                outputs += out
                if (out is Output.Timeout) break
                describeOutput(out)?.let { lines += "${stamp(timed.now.mono)} $it" }
            }
        }
        lines += statsLine(player.stats())
    }
    return lines to outputs
}

private val NOW = Now(mono = 0L, wall = 1_795_262_400_000_000L)

private fun load(player: Player, now: Now = NOW) {
    val source = Source(url = "https://cdn.test/live.m3u8", cdn = null, priority = 0u)
    player.handleInput(now, Input.Command(Command.Load(sources = listOf(source), start = null)))
}

private fun drain(player: Player): List<Output> {
    val out = mutableListOf<Output>()
    while (true) {
        val o = player.pollOutput()
        if (o is Output.Timeout) return out
        out += o
    }
}

private class Lines : LogSink {
    val lines = mutableListOf<Pair<LogLevel, String>>()
    override fun log(level: LogLevel, message: String) {
        lines += level to message
    }
}

fun main(args: Array<String>) {
    val dir = File(args.firstOrNull() ?: "target/parity")
    val names = File(dir, "index.txt").readLines().filter { it.isNotBlank() }

    for (name in names) {
        test("transcript equals native: $name") {
            val recording = readRecording(File(dir, "$name.rec").readBytes())
            val want = File(dir, "$name.txt").readLines()
            val (got, outputs) = replay(recording)
            for (k in 0 until maxOf(got.size, want.size)) {
                check(got.getOrNull(k) == want.getOrNull(k)) {
                    "line ${k + 1}: got '${got.getOrNull(k)}', want '${want.getOrNull(k)}'"
                }
            }
            val first = outputs.filterIsInstance<Output.Request>().first().v1
            check(first.kind == RequestKind.MANIFEST && first.url.startsWith("https://")) { "$first" }
        }
    }

    test("fixture set is complete") {
        // Seven with the shared corpus (the DRM scenario plays one of its MPDs), six without.
        check(names.size >= 6 && names.count { "live" in it } >= 3) { "$names" }
    }

    test("a cut recording is PlayerException.Unreadable") {
        val bytes = File(dir, "${names[0]}.rec").readBytes()
        try {
            readRecording(bytes.copyOf(bytes.size / 2))
            throw AssertionError("read")
        } catch (e: PlayerException.Unreadable) {
            check("corrupt" in e.reason) { e.reason }
        }
    }

    test("load asks for the manifest") {
        Player(defaultConfig(), null, LogLevel.ERROR).use { player ->
            load(player)
            val request = (drain(player).first() as Output.Request).v1
            check(request.url == "https://cdn.test/live.m3u8") { request.url }
            check(request.delivery == Delivery.ENGINE && request.byteRange == null) { "$request" }
        }
    }

    test("contract breaches are typed exceptions and the player carries on") {
        Player(defaultConfig(), null, LogLevel.ERROR).use { player ->
            try {
                player.handleInput(NOW, Input.Failed(99uL, FailureClass.NETWORK, "x"))
                throw AssertionError("accepted")
            } catch (e: PlayerException.InvalidInput) {
                check(e.kind == "unknown-request") { e.kind }
            }
            load(player)
            check(drain(player).isNotEmpty()) { "no outputs" }
        }
    }

    test("log lines reach the host by level; a throwing logger is counted") {
        val sink = Lines()
        Player(defaultConfig(), sink, LogLevel.DEBUG).use { player ->
            load(player)
            drain(player)
        }
        check(LogLevel.DEBUG to "request #1 manifest https://cdn.test/live.m3u8" in sink.lines) { "${sink.lines}" }
        val throws = object : LogSink {
            override fun log(level: LogLevel, message: String) = throw IllegalStateException("broken logger")
        }
        Player(defaultConfig(), throws, LogLevel.DEBUG).use { player ->
            load(player)
            check(drain(player).isNotEmpty()) { "no outputs" }
            check(player.callbackFailures() >= 1uL) { "not counted" }
        }
    }

    test("a key id of 5 bytes is PlayerException.InvalidInput") {
        Player(defaultConfig(), null, LogLevel.ERROR).use { player ->
            val bad = Input.Cdm(CdmEvent.KeyStatuses(0u, listOf(KeyStatusEntry(ByteArray(5), KeyStatus.USABLE))))
            try {
                player.handleInput(NOW, bad)
                throw AssertionError("accepted")
            } catch (e: PlayerException.InvalidInput) {
                check(e.kind == "bad-value" && "want 16" in e.reason) { e.reason }
            }
        }
    }

    test("the log callback may call the player") {
        var calls = 0
        lateinit var player: Player
        val reentrant = object : LogSink {
            override fun log(level: LogLevel, message: String) {
                player.stats()
                calls++
            }
        }
        player = Player(defaultConfig(), reentrant, LogLevel.DEBUG)
        player.use {
            load(it)
            check(drain(it).isNotEmpty()) { "no outputs" }
            check(calls >= 1 && it.callbackFailures() == 0uL) { "calls $calls, failures ${it.callbackFailures()}" }
        }
    }

    test("defaults, device profiles and platform DRM") {
        check(defaultConfig().buffer.ahead == 30_000_000L) { "buffer" }
        check("tizen-2019" in deviceProfileIds()) { "profiles" }
        check((deviceProfile("android-tv-4k")?.maxHeight ?: 0u) >= 2160u) { "4k" }
        check(deviceProfile("no-such-device") == null) { "unknown" }
        check(drmConfigForPlatform(Platform.ANDROID).systems.first().system is KeySystem.Widevine) { "widevine" }
    }

    var failed = 0
    println("1..${tests.size}")
    tests.forEachIndexed { i, (name, body) ->
        try {
            body()
            println("ok ${i + 1} - $name")
        } catch (e: Throwable) {
            failed++
            println("not ok ${i + 1} - $name: $e")
        }
    }
    println("kotlin: ${tests.size - failed} passed, $failed failed")
    exitProcess(if (failed == 0) 0 else 1)
}
