// An iOS/tvOS host for the Playhead engine: URLSession for requests, AVSampleBufferDisplayLayer
// for video, AVContentKeySession for FairPlay. Every engine call happens on `queue`.
// Not compiled on Playhead's CI (no Swift toolchain there): see ../README.md.

import AVFoundation
import Foundation

final class PlayheadHost: NSObject, AVContentKeySessionDelegate {
    let layer = AVSampleBufferDisplayLayer()
    private let queue = DispatchQueue(label: "playhead")
    private let player: Player
    private var tasks: [RequestId: URLSessionDataTask] = [:]
    private var timer: DispatchWorkItem?
    private var formats: [UInt32: CMFormatDescription] = [:]
    // FairPlay: one AVContentKeySession; engine sessions wait for their key request.
    private let keys = AVContentKeySession(keySystem: .fairPlayStreaming)
    private var certificate = Data()
    private var pending: [String: DrmSessionId] = [:]            // skd URI -> engine session
    private var requests: [DrmSessionId: AVContentKeyRequest] = [:]

    override init() {
        var config = defaultConfig()
        config = Config(seed: config.seed, buffer: config.buffer, retry: config.retry, liveDelay: config.liveDelay,
                        penalty: config.penalty, staleAfterTargets: config.staleAfterTargets, abr: config.abr,
                        tick: config.tick, sink: .samples, drm: drmConfigForPlatform(platform: .apple))
        player = Player(config: config, log: nil, level: .info)
        super.init()
        keys.setDelegate(self, queue: queue)
        keys.addContentKeyRecipient(layer)
    }

    private func now() -> Now {
        Now(mono: Int64(DispatchTime.now().uptimeNanoseconds / 1000), wall: Int64(Date().timeIntervalSince1970 * 1_000_000))
    }

    func load(_ url: String) {
        queue.async {
            self.feed(.command(.load(sources: [Source(url: url, cdn: nil, priority: 0)], start: nil)))
            self.feed(.command(.play))
        }
    }

    /// Feeds one input, then performs every output until the engine's next timeout.
    private func feed(_ input: Input) {
        do {
            try player.handleInput(now: now(), input: input)
            while true {
                switch try player.pollOutput() {
                case .request(let request): fetch(request)
                case .cancel(let id): tasks.removeValue(forKey: id)?.cancel()
                case .media(let media): enqueue(media)
                case .cdm(let request): cdm(request)
                case .event(.error(let error)): print("playback failed: \(error.cause)")
                case .event, .setPosition, .endOfStream: break   // a real app updates its UI / renderer here
                case .timeout(let at):
                    timer?.cancel()
                    if let at {
                        let item = DispatchWorkItem { [weak self] in self?.feed(.timeout) }
                        timer = item
                        queue.asyncAfter(deadline: .now() + .microseconds(Int(max(0, at - now().mono))), execute: item)
                    }
                    return
                }
            }
        } catch PlayerError.InvalidInput {
            return                                                // a late answer to a cancelled request
        } catch {
            print("player: \(error)")                             // Internal: create a new player
        }
    }

    private func fetch(_ r: Request) {
        var req = URLRequest(url: URL(string: r.url)!)
        req.httpMethod = r.method == .post ? "POST" : "GET"
        req.httpBody = r.body
        for h in r.headers { req.setValue(h.value, forHTTPHeaderField: h.name) }
        if let range = r.byteRange {
            let end = range.length.map { String(range.start + $0 - 1) } ?? ""
            req.setValue("bytes=\(range.start)-\(end)", forHTTPHeaderField: "Range")
        }
        let task = URLSession.shared.dataTask(with: req) { data, response, error in
            let firstByte = self.now().mono
            self.queue.async {
                guard self.tasks.removeValue(forKey: r.id) != nil else { return }
                guard let http = response as? HTTPURLResponse, let data else {
                    self.feed(.failed(id: r.id, class: .network, detail: error?.localizedDescription ?? "no response"))
                    return
                }
                let headers = http.allHeaderFields.map { NameValue(name: "\($0.key)".lowercased(), value: "\($0.value)") }
                let finalUrl = http.url?.absoluteString == r.url ? nil : http.url?.absoluteString
                self.feed(.response(Response(id: r.id, status: UInt16(http.statusCode), headers: headers,
                                             body: .bytes(data), firstByteAt: firstByte, finalUrl: finalUrl)))
            }
        }
        tasks[r.id] = task
        task.resume()
    }

    /// Sample sink: the codec configuration becomes a format description, each access unit a
    /// CMSampleBuffer (length-prefixed NAL units: the form VideoToolbox takes).
    private func enqueue(_ media: Media) {
        guard case .samples(let samples) = media.payload else { return }
        for config in samples.configs {
            guard case .avc(let avcC) = config.record, formats[config.trackId] == nil else { continue }
            let atoms = [kCMFormatDescriptionExtension_SampleDescriptionExtensionAtoms: ["avcC": avcC]] as CFDictionary
            var format: CMFormatDescription?
            CMVideoFormatDescriptionCreate(allocator: nil, codecType: kCMVideoCodecType_H264,
                                           width: Int32(config.width ?? 0), height: Int32(config.height ?? 0),
                                           extensions: atoms, formatDescriptionOut: &format)
            formats[config.trackId] = format
        }
        for unit in samples.units {
            guard let format = formats[unit.trackId],
                  let timescale = samples.configs.first(where: { $0.trackId == unit.trackId })?.timescale else { continue }
            var block: CMBlockBuffer?
            let bytes = unit.data
            CMBlockBufferCreateWithMemoryBlock(allocator: nil, memoryBlock: nil, blockLength: bytes.count,
                                               blockAllocator: nil, customBlockSource: nil, offsetToData: 0,
                                               dataLength: bytes.count, flags: 0, blockBufferOut: &block)
            guard let block else { continue }
            bytes.withUnsafeBytes { _ = CMBlockBufferReplaceDataBytes(with: $0.baseAddress!, blockBuffer: block,
                                                                      offsetIntoDestination: 0, dataLength: bytes.count) }
            var timing = CMSampleTimingInfo(duration: CMTime(value: Int64(unit.duration), timescale: Int32(timescale)),
                                            presentationTimeStamp: CMTime(value: unit.pts, timescale: Int32(timescale)),
                                            decodeTimeStamp: CMTime(value: unit.dts, timescale: Int32(timescale)))
            var size = bytes.count
            var sample: CMSampleBuffer?
            CMSampleBufferCreateReady(allocator: nil, dataBuffer: block, formatDescription: format, sampleCount: 1,
                                      sampleTimingEntryCount: 1, sampleTimingArray: &timing, sampleSizeEntryCount: 1,
                                      sampleSizeArray: &size, sampleBufferOut: &sample)
            // Encrypted units would also carry their IV and subsample map as the
            // kCMSampleAttachmentKey_CryptorSubsampleAuxiliaryData attachment (iOS 15+): elided.
            if let sample { layer.enqueue(sample) }
        }
    }

    /// The CDM: FairPlay through AVContentKeySession.
    private func cdm(_ request: CdmRequest) {
        switch request {
        case .setServerCertificate(_, let cert):
            certificate = cert
        case .createSession(let session, _, _, _, _, let initData):
            let skd = String(decoding: initData, as: UTF8.self)    // init data type `skd`: the key URI
            pending[skd] = session
            keys.processContentKeyRequest(withIdentifier: skd, initializationData: nil, options: nil)
        case .update(let session, let ckc):
            requests[session]?.processContentKeyResponse(AVContentKeyResponse(fairPlayStreamingKeyResponseData: ckc))
        case .close(let session):
            requests.removeValue(forKey: session)
        }
    }

    func contentKeySession(_ s: AVContentKeySession, didProvide keyRequest: AVContentKeyRequest) {
        guard let skd = keyRequest.identifier as? String, let session = pending.removeValue(forKey: skd) else { return }
        requests[session] = keyRequest
        let contentId = Data((URL(string: skd)?.host ?? skd).utf8)
        keyRequest.makeStreamingContentKeyRequestData(forApp: certificate, contentIdentifier: contentId, options: nil) { spc, error in
            self.queue.async {
                if let spc {
                    self.feed(.cdm(.message(session: session, kind: .licenseRequest, message: spc)))
                } else {
                    self.feed(.cdm(.error(session: session, detail: error?.localizedDescription ?? "no SPC")))
                }
            }
        }
    }

    func contentKeySession(_ s: AVContentKeySession, contentKeyRequest: AVContentKeyRequest, didFailWithError err: Error) {
        guard let session = requests.first(where: { $0.value === contentKeyRequest })?.key else { return }
        feed(.cdm(.error(session: session, detail: err.localizedDescription)))
    }
}
