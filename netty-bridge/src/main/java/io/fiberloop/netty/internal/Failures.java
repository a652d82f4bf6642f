package io.fiberloop.netty.internal;

import io.netty.handler.codec.DecoderException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;

/**
 * How a connection's failure is kept and raised again: the first failure is recorded once, as an
 * {@link IOException} of a well-known type, and every later call on the connection throws a fresh
 * exception of that type (so that its stack trace shows the call) with the recorded one as its
 * cause. Callers catch {@link SocketTimeoutException}, {@link SSLHandshakeException} and
 * {@link SSLException} as they would from a JDK socket.
 *
 * <p>Threading: any thread (no state).
 */
final class Failures {
    private Failures() {
    }

    /**
     * The failure to record for {@code cause}: an {@link SSLException} a decoder wrapped is
     * unwrapped; anything that is not an {@link IOException} is wrapped in one.
     *
     * @param cause what failed
     * @return the exception to keep
     */
    static IOException recorded(Throwable cause) {
        Throwable c = cause;
        if (c instanceof DecoderException && c.getCause() instanceof SSLException ssl) {
            c = ssl;
        }
        return c instanceof IOException io ? io : new IOException(c.toString(), c);
    }

    /**
     * A fresh exception to throw for the recorded {@code failure}, of the same well-known type:
     * {@link SocketTimeoutException} for a timeout, {@link SSLHandshakeException} or
     * {@link SSLException} for TLS, else {@link IOException}; its cause is {@code failure}.
     *
     * @param failure the recorded failure
     * @return the exception to throw
     */
    static IOException rethrown(IOException failure) {
        String m = failure.getMessage();
        if (failure instanceof SocketTimeoutException) {
            return withCause(new SocketTimeoutException(m), failure);
        }
        if (failure instanceof SSLHandshakeException) {
            return withCause(new SSLHandshakeException(m), failure);
        }
        if (failure instanceof SSLException) {
            return new SSLException(m, failure);
        }
        return new IOException(m, failure);
    }

    private static IOException withCause(IOException e, IOException cause) {
        e.initCause(cause);
        return e;
    }
}
