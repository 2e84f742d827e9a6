import NIOCore
import NIOHTTPTypes

/// Closes connections of clients too slow to be honest (slowloris): a request's headers must arrive within
/// `headDeadline` of the connection opening or of the previous response; a body must keep arriving at
/// `minimumBytes` per `window` at least. A stalled or trickling client loses its connection; the event loops never
/// wait on it, so other clients are served meanwhile. No timer runs while the server itself works on a request.
final class SlowClientGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let headDeadline: TimeAmount
    let window: TimeAmount
    let minimumBytes: Int
    var timer: Scheduled<Void>?
    var receivingBody = false
    var bytesInWindow = 0

    init(headDeadline: TimeAmount, window: TimeAmount = .seconds(10), minimumBytes: Int = 1024) {
        self.headDeadline = headDeadline; self.window = window; self.minimumBytes = minimumBytes
    }

    func handlerAdded(context: ChannelHandlerContext) { arm(context, headDeadline) }

    func handlerRemoved(context: ChannelHandlerContext) { timer?.cancel() }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            receivingBody = true
            bytesInWindow = 0
            arm(context, window)
        case .body(let b):
            bytesInWindow += b.readableBytes
        case .end:
            receivingBody = false
            timer?.cancel()
            timer = nil
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { arm(context, headDeadline) }
        context.write(data, promise: promise)
    }

    func arm(_ context: ChannelHandlerContext, _ after: TimeAmount) {
        timer?.cancel()
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: after) { [self] in
            if receivingBody && bytesInWindow >= minimumBytes {
                bytesInWindow = 0
                arm(context, window)
            } else {
                context.close(promise: nil)
            }
        }
    }
}
