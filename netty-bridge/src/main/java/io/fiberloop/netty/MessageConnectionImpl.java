package io.fiberloop.netty;

import java.io.IOException;
import java.time.Duration;

/** A {@link MessageConnection}: {@link ChannelConnection}'s core over whatever the pipeline's decoders emit. */
class MessageConnectionImpl<I, O> extends ChannelConnection implements MessageConnection<I, O> {

    MessageConnectionImpl(NettyIoDriver driver) {
        super(driver);
    }

    @Override
    boolean accepts(Object msg) {
        return true;
    }

    @Override
    @SuppressWarnings("unchecked")
    public I read() throws IOException {
        return (I) readObject("read()");
    }

    @Override
    public void write(O message) throws IOException {
        java.util.Objects.requireNonNull(message, "message");
        writeObject(message, "write()");
    }

    @Override
    public void idleTimeout(Duration timeout) {
        checkLoop("idleTimeout()");
        super.idleTimeout(timeout);
    }

    @Override
    protected String kind() {
        return "MessageConnection";
    }
}
