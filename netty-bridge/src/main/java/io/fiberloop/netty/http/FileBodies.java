package io.fiberloop.netty.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.DefaultFileRegion;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Sends a part of a file as a response body: as one {@link DefaultFileRegion} where the bytes may
 * go from the page cache to the socket untouched (plain TCP, uncompressed: Netty's
 * {@code sendfile}/{@code splice} path), else read in 64 KiB pieces and drained between them (TLS
 * must encrypt them, compression must see them).
 *
 * <p>Threading: the request's fiber. The piecewise path reads the file in that fiber: a read from
 * the page cache is short, a read from a cold disk holds the loop for its duration.
 */
final class FileBodies {
    static final int PIECE = 64 * 1024;

    private FileBodies() {
    }

    static void send(BodyWriter out, Path path, long offset, long length) throws IOException {
        if (length == 0) {
            return;
        }
        if (out instanceof ExchangeWriter w && w.zeroCopy()) {
            w.writeRegion(new DefaultFileRegion(path.toFile(), offset, length));
            return;
        }
        try (FileChannel fc = FileChannel.open(path, StandardOpenOption.READ)) {
            long pos = offset;
            long end = offset + length;
            while (pos < end) {
                int n = (int) Math.min(PIECE, end - pos);
                ByteBuf buf = io.netty.buffer.ByteBufAllocator.DEFAULT.heapBuffer(n);
                try {
                    int r = buf.writeBytes(fc, pos, n);
                    if (r <= 0) {
                        throw new IOException(path + " ended at " + pos + " bytes, before the " + end + " promised");
                    }
                    pos += r;
                } catch (IOException | RuntimeException e) {
                    buf.release();
                    throw e;
                }
                out.write(buf);
                out.drain();
            }
        }
    }
}
