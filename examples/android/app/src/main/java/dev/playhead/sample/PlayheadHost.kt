// An Android host for the Playhead engine: OkHttp for requests, MediaCodec for video, MediaDrm
// as the CDM. Every engine call happens on `thread`; callbacks post back to it.
// Not compiled on Playhead's CI (no Android SDK there): see ../../../../../../README.md.

package dev.playhead.sample

import android.media.MediaCodec
import android.media.MediaCrypto
import android.media.MediaDrm
import android.media.MediaFormat
import android.os.Handler
import android.os.HandlerThread
import android.os.SystemClock
import android.view.Surface
import dev.playhead.*
import okhttp3.Call
import okhttp3.Callback
import okhttp3.OkHttpClient
import okhttp3.RequestBody.Companion.toRequestBody
import java.io.IOException
import java.util.UUID

class PlayheadHost(private val surface: Surface, private val licenseHeaders: Map<String, String> = emptyMap()) {
    private val thread = HandlerThread("playhead").apply { start() }
    private val handler = Handler(thread.looper)
    private val http = OkHttpClient()
    private val config = defaultConfig().copy(
        sink = SinkMode.Samples,                                   // access units for MediaCodec
        drm = drmConfigForPlatform(Platform.ANDROID),
    )
    private val player = Player(config, log = AndroidLog(), level = LogLevel.INFO)
    private val calls = mutableMapOf<ULong, Call>()
    private var codec: MediaCodec? = null
    private var drm: MediaDrm? = null
    private val drmSessions = mutableMapOf<UInt, ByteArray>()      // engine session -> MediaDrm session
    private val wake = Runnable { feed(Input.Timeout) }

    private fun now() = Now(mono = SystemClock.elapsedRealtimeNanos() / 1000, wall = System.currentTimeMillis() * 1000)

    fun load(url: String) = handler.post {
        feed(Input.Command(Command.Load(listOf(Source(url, cdn = null, priority = 0u)), start = null)))
        feed(Input.Command(Command.Play))
    }

    /** Feeds one input, then performs every output until the engine's next timeout. */
    private fun feed(input: Input) {
        try {
            player.handleInput(now(), input)
            drain()
        } catch (e: PlayerException.InvalidInput) {
            // A late answer to a cancelled request: ignored, the player carries on.
        } catch (e: PlayerException.Internal) {
            android.util.Log.e("playhead", "engine failure, recreate the player: ${e.reason}")
        }
    }

    private fun drain() {
        while (true) {
            when (val out = player.pollOutput()) {
                is Output.Request -> fetch(out.v1)
                is Output.Cancel -> calls.remove(out.v1)?.cancel()
                is Output.Media -> decode(out.v1)
                is Output.Cdm -> cdm(out.v1)
                is Output.Event -> onEvent(out.v1)
                is Output.SetPosition, Output.EndOfStream -> {}  // a real app seeks/ends its renderer here
                is Output.Timeout -> {
                    handler.removeCallbacks(wake)
                    out.v1?.let { at -> handler.postDelayed(wake, maxOf(0, (at - now().mono) / 1000)) }
                    return
                }
            }
        }
    }

    private fun fetch(r: Request) {
        val builder = okhttp3.Request.Builder().url(r.url)
        r.headers.forEach { builder.header(it.name, it.value) }
        r.byteRange?.let { b -> builder.header("Range", "bytes=${b.start}-${b.length?.let { b.start + it - 1u } ?: ""}") }
        if (r.method == Method.POST) builder.post((r.body ?: ByteArray(0)).toRequestBody())
        val call = http.newCall(builder.build())
        calls[r.id] = call
        call.enqueue(object : Callback {
            override fun onFailure(call: Call, e: IOException) {
                handler.post {
                    if (calls.remove(r.id) != null) feed(Input.Failed(r.id, FailureClass.NETWORK, e.toString()))
                }
            }

            override fun onResponse(call: Call, response: okhttp3.Response) {
                val firstByte = now().mono
                val body = response.use { it.body?.bytes() ?: ByteArray(0) }
                handler.post {
                    if (calls.remove(r.id) == null) return@post
                    val headers = response.headers.map { (name, value) -> NameValue(name.lowercase(), value) }
                    val url = response.request.url.toString().takeIf { it != r.url }
                    feed(Input.Response(Response(r.id, response.code.toUShort(), headers, Body.Bytes(body), firstByte, url)))
                }
            }
        })
    }

    /** Sample sink: codec configuration and access units, in decode order. */
    private fun decode(media: Media) {
        val samples = (media.payload as? Payload.Samples)?.v1 ?: return
        for (config in samples.configs) {
            val record = config.record as? CodecRecord.Avc ?: continue   // this sample shows H.264 only
            if (codec == null) {
                val format = MediaFormat.createVideoFormat("video/avc", config.width!!.toInt(), config.height!!.toInt())
                format.setByteBuffer("csd-0", java.nio.ByteBuffer.wrap(avcParameterSets(record.v1)))
                codec = MediaCodec.createDecoderByType("video/avc").apply {
                    val crypto = drmSessions.values.firstOrNull()?.let { MediaCrypto(WIDEVINE, it) }
                    configure(format, surface, crypto, 0)
                    start()
                }
            }
        }
        val codec = codec ?: return
        for (unit in samples.units) {
            val track = samples.configs.first { it.trackId == unit.trackId }
            val timescale = track.timescale.toLong()
            val index = codec.dequeueInputBuffer(10_000)
            if (index < 0) continue                               // a real app queues and retries
            val data = annexB(unit.data)
            codec.getInputBuffer(index)!!.put(data)
            val micros = unit.pts * 1_000_000 / timescale
            val flags = if (unit.keyframe) MediaCodec.BUFFER_FLAG_KEY_FRAME else 0
            val enc = unit.encryption
            if (enc == null) {
                codec.queueInputBuffer(index, 0, data.size, micros, flags)
            } else {
                val info = MediaCodec.CryptoInfo()
                val clear = enc.subsamples.map { it.clear.toInt() }.toIntArray()
                val protected = enc.subsamples.map { it.`protected`.toInt() }.toIntArray()
                val protection = track.protection ?: continue
                val cbcs = protection.scheme.decodeToString() == "cbcs"
                val iv = (enc.iv.takeIf { it.isNotEmpty() } ?: protection.defaultConstantIv ?: ByteArray(16)).copyOf(16)
                val mode = if (cbcs) MediaCodec.CRYPTO_MODE_AES_CBC else MediaCodec.CRYPTO_MODE_AES_CTR
                info.set(clear.size, clear, protected, protection.defaultKid, iv, mode)
                if (cbcs) info.setPattern(MediaCodec.CryptoInfo.Pattern(protection.cryptByteBlock.toInt(), protection.skipByteBlock.toInt()))
                codec.queueSecureInputBuffer(index, 0, info, micros, flags)
            }
        }
    }

    /** The CDM: MediaDrm sessions behind the engine's session ids. */
    private fun cdm(request: CdmRequest) {
        val drm = drm ?: MediaDrm(WIDEVINE).also { d ->
            drm = d
            d.setOnKeyStatusChangeListener({ _, sessionId, keys, _ ->
                val session = drmSessions.entries.first { it.value.contentEquals(sessionId) }.key
                val statuses = keys.map { KeyStatusEntry(it.keyId, keyStatus(it.statusCode)) }
                handler.post { feed(Input.Cdm(CdmEvent.KeyStatuses(session, statuses))) }
            }, handler)
        }
        when (request) {
            is CdmRequest.CreateSession -> {
                val id = drm.openSession().also { drmSessions[request.session] = it }
                val mime = if (request.initDataType == InitDataType.KEY_IDS) "keyids" else "cenc"
                val keyRequest = drm.getKeyRequest(id, request.initData, mime, MediaDrm.KEY_TYPE_STREAMING, null)
                feed(Input.Cdm(CdmEvent.Message(request.session, MessageKind.LICENSE_REQUEST, keyRequest.data)))
            }
            is CdmRequest.Update -> try {
                drm.provideKeyResponse(drmSessions.getValue(request.session), request.license)
            } catch (e: Exception) {
                feed(Input.Cdm(CdmEvent.Error(request.session, e.toString())))
            }
            is CdmRequest.Close -> drmSessions.remove(request.session)?.let(drm::closeSession)
            is CdmRequest.SetServerCertificate -> drm.setPropertyByteArray("serviceCertificate", request.certificate)
        }
    }

    private fun onEvent(event: Event) {
        if (event is Event.Error) android.util.Log.e("playhead", "playback failed: ${event.v1.cause}")
    }

    fun release() = handler.post {
        player.close()
        codec?.release()
        drm?.close()
        thread.quitSafely()
    }

    private class AndroidLog : LogSink {
        override fun log(level: LogLevel, message: String) {
            android.util.Log.println(if (level >= LogLevel.WARN) android.util.Log.WARN else android.util.Log.INFO, "playhead", message)
        }
    }

    companion object {
        val WIDEVINE: UUID = UUID.fromString("edef8ba9-79d6-4ace-a3c8-27dcd51d21ed")

        fun keyStatus(code: Int) = when (code) {
            MediaDrm.KeyStatus.STATUS_USABLE -> KeyStatus.USABLE
            MediaDrm.KeyStatus.STATUS_EXPIRED -> KeyStatus.EXPIRED
            MediaDrm.KeyStatus.STATUS_OUTPUT_NOT_ALLOWED -> KeyStatus.OUTPUT_RESTRICTED
            MediaDrm.KeyStatus.STATUS_PENDING -> KeyStatus.STATUS_PENDING
            else -> KeyStatus.INTERNAL_ERROR
        }

        /** 4-byte NAL lengths -> Annex B start codes (MediaCodec's input form). */
        fun annexB(data: ByteArray): ByteArray {
            val out = data.copyOf()
            var at = 0
            while (at + 4 <= out.size) {
                val len = ((out[at].toInt() and 0xff) shl 24) or ((out[at + 1].toInt() and 0xff) shl 16) or
                    ((out[at + 2].toInt() and 0xff) shl 8) or (out[at + 3].toInt() and 0xff)
                out[at] = 0; out[at + 1] = 0; out[at + 2] = 0; out[at + 3] = 1
                at += 4 + len
            }
            return out
        }

        /** SPS and PPS of an AVCDecoderConfigurationRecord, in Annex B form ("csd-0"). */
        fun avcParameterSets(avcC: ByteArray): ByteArray {
            val out = java.io.ByteArrayOutputStream()
            var at = 5
            repeat(2) { pass ->
                val count = if (pass == 0) avcC[at++].toInt() and 0x1f else avcC[at++].toInt() and 0xff
                repeat(count) {
                    val len = ((avcC[at].toInt() and 0xff) shl 8) or (avcC[at + 1].toInt() and 0xff)
                    out.write(byteArrayOf(0, 0, 0, 1)); out.write(avcC, at + 2, len); at += 2 + len
                }
            }
            return out.toByteArray()
        }
    }
}
