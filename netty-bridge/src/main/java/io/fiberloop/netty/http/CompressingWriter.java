package io.fiberloop.netty.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.FileRegion;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPOutputStream;

/**
 * A streamed body compressed as it is written: gzip or deflate (zlib) through the JDK's deflater
 * in sync-flush mode, so that {@link #flush()} and {@link #drain()} send everything written so far.
 * Whole bodies are compressed with {@link #compress}.
 *
 * <p>Threading: the request's fiber.
 */
final class CompressingWriter implements ExchangeWriter {
    private final ExchangeWriter out;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream(8 * 1024);
    private final DeflaterOutputStream z;
    private final Deflater deflater;

    CompressingWriter(ExchangeWriter out, String coding, int level) throws IOException {
        this.out = out;
        this.deflater = new Deflater(level, coding.equals("gzip"));
        this.z = coding.equals("gzip") ? new Gzip(pending, deflater) : new DeflaterOutputStream(pending, deflater, 8 * 1024, true);
    }

    /** GZIPOutputStream with our deflater (so its level applies and it is ended with the stream). */
    private static final class Gzip extends GZIPOutputStream {
        Gzip(OutputStream out, Deflater d) throws IOException {
            super(out, 8 * 1024, true);
            def.end();
            def = d;
        }
    }

    /** Compresses a whole body. */
    static byte[] compress(byte[] body, String coding, int level) throws IOException {
        ByteArrayOutputStream bo = new ByteArrayOutputStream(Math.max(64, body.length / 3));
        Deflater d = new Deflater(level, coding.equals("gzip"));
        try (DeflaterOutputStream zo = coding.equals("gzip") ? new Gzip(bo, d) : new DeflaterOutputStream(bo, d)) {
            zo.write(body);
        } finally {
            d.end();
        }
        return bo.toByteArray();
    }

    @Override
    public HttpRequest request() {
        return out.request();
    }

    @Override
    public void trailer(String name, String value) {
        out.trailer(name, value);
    }

    @Override
    public boolean zeroCopy() {
        return false;
    }

    @Override
    public void writeRegion(FileRegion region) {
        region.release();
        throw new UnsupportedOperationException("a compressed body cannot take a file region");
    }

    @Override
    public void write(byte[] bytes) throws IOException {
        z.write(bytes);
        forward(false);
    }

    @Override
    public void write(String text) throws IOException {
        write(text.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void write(ByteBuf buf) throws IOException {
        try {
            buf.readBytes(z, buf.readableBytes());
        } finally {
            buf.release();
        }
        forward(false);
    }

    @Override
    public void flush() throws IOException {
        z.flush();
        forward(true);
        out.flush();
    }

    @Override
    public void drain() throws IOException {
        z.flush();
        forward(true);
        out.drain();
    }

    /** Ends the compressed stream (its trailer). After the body was written. */
    void finish() throws IOException {
        try {
            z.finish();
            forward(true);
        } finally {
            deflater.end();
        }
    }

    /** Releases the deflater of a body that broke off. */
    void abandon() {
        deflater.end();
    }

    private void forward(boolean all) throws IOException {
        if (pending.size() > 0 && (all || pending.size() >= 8 * 1024)) {
            out.write(pending.toByteArray());
            pending.reset();
        }
    }
}
