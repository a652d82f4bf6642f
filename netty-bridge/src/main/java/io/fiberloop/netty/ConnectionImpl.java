package io.fiberloop.netty;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;

/**
 * The byte connection: {@link ChannelConnection}'s core with an inbox of {@link ByteBuf}s, plus
 * the byte-level reads (lines, exact lengths, delimiters) and writes (buffers, arrays, strings).
 * With TLS, the {@code SslHandler} sits in front of it and it sees plain bytes.
 */
class ConnectionImpl extends ChannelConnection implements Connection {

    ConnectionImpl(NettyIoDriver driver) {
        super(driver);
    }

    @Override
    boolean accepts(Object msg) {
        return msg instanceof ByteBuf buf && buf.isReadable();
    }

    // ------------------------------------------------------------------ reading

    @Override
    public ByteBuf read() throws IOException {
        return (ByteBuf) readObject("read()");
    }

    /** The head of the inbox, read from the socket if it is empty; {@code null} at end of stream. */
    private ByteBuf head() throws IOException {
        ByteBuf head = (ByteBuf) inbox.peekFirst();
        if (head != null) {
            return head;
        }
        ByteBuf next = read();
        if (next != null) {
            unread(next);
        }
        return next;
    }

    /** Takes {@code n} bytes of the head (already peeked) off the inbox accounting, dropping it when empty. */
    private void consumed(ByteBuf head, int n) {
        inboxBytes -= n;
        if (!head.isReadable()) {
            inbox.pollFirst();
            head.release();
        }
    }

    @Override
    public String readLine(int maxLength) throws IOException {
        if (maxLength < 0) {
            throw new IllegalArgumentException("maxLength must be >= 0, was " + maxLength);
        }
        checkLoop("readLine()");
        ByteBuf line = null;
        try {
            for (;;) {
                ByteBuf head = head();
                if (head == null) {
                    if (line == null || !line.isReadable()) {
                        return null;
                    }
                    int len = line.readableBytes();
                    if (line.getByte(line.writerIndex() - 1) == '\r') {
                        len--;
                    }
                    if (len > maxLength) {
                        throw new IOException("line longer than " + maxLength + " bytes on " + this);
                    }
                    return decodeLine(line, len);
                }
                int nl = head.indexOf(head.readerIndex(), head.writerIndex(), (byte) '\n');
                int take = nl < 0 ? head.readableBytes() : nl - head.readerIndex() + 1;
                int have = line == null ? 0 : line.readableBytes();
                // without its '\n', a line may hold maxLength bytes plus a '\r'
                if (have + take - (nl < 0 ? 0 : 1) > maxLength + 1) {
                    throw new IOException("line longer than " + maxLength + " bytes on " + this);
                }
                if (line == null) {
                    line = head.alloc().buffer(Math.min(Math.max(take, 64), maxLength + 2));
                }
                line.writeBytes(head, take);
                consumed(head, take);
                if (nl >= 0) {
                    int len = line.readableBytes() - 1;
                    if (len > 0 && line.getByte(line.readerIndex() + len - 1) == '\r') {
                        len--;
                    }
                    if (len > maxLength) {
                        throw new IOException("line longer than " + maxLength + " bytes on " + this);
                    }
                    return decodeLine(line, len);
                }
            }
        } finally {
            if (line != null) {
                line.release();
            }
        }
    }

    private static String decodeLine(ByteBuf line, int len) {
        return line.toString(line.readerIndex(), len, StandardCharsets.UTF_8);
    }

    @Override
    public byte[] readExactly(int n) throws IOException {
        if (n < 0) {
            throw new IllegalArgumentException("n must be >= 0, was " + n);
        }
        checkLoop("readExactly()");
        byte[] out = new byte[n];
        int got = 0;
        while (got < n) {
            ByteBuf head = head();
            if (head == null) {
                throw new EOFException("end of stream after " + got + " of " + n + " bytes on " + this);
            }
            int take = Math.min(n - got, head.readableBytes());
            head.readBytes(out, got, take);
            got += take;
            consumed(head, take);
        }
        return out;
    }

    @Override
    public byte[] readUntil(byte[] delimiter, int maxLength) throws IOException {
        Objects.requireNonNull(delimiter, "delimiter");
        if (delimiter.length == 0) {
            throw new IllegalArgumentException("the delimiter must not be empty");
        }
        if (maxLength < 0) {
            throw new IllegalArgumentException("maxLength must be >= 0, was " + maxLength);
        }
        checkLoop("readUntil()");
        int dlen = delimiter.length;
        ByteBuf acc = null;
        try {
            int searchFrom = 0;
            for (;;) {
                ByteBuf head = head();
                if (head == null) {
                    if (acc == null || !acc.isReadable()) {
                        return null;
                    }
                    if (acc.readableBytes() > maxLength) {
                        throw new IOException("no delimiter within " + maxLength + " bytes on " + this);
                    }
                    return ByteBufUtil.getBytes(acc);
                }
                // take at most what could still hold a message of maxLength plus its delimiter
                int have = acc == null ? 0 : acc.readableBytes();
                int take = (int) Math.min(head.readableBytes(), (long) maxLength + dlen - have);
                if (acc == null) {
                    acc = head.alloc().buffer((int) Math.min(Math.max(take, 64), (long) maxLength + dlen));
                }
                acc.writeBytes(head, take);
                consumed(head, take);
                int found = indexOf(acc, delimiter, searchFrom);
                if (found >= 0) {
                    int rest = acc.readableBytes() - found - dlen;
                    if (rest > 0) {
                        unread(acc.retainedSlice(acc.readerIndex() + found + dlen, rest));
                    }
                    return ByteBufUtil.getBytes(acc, acc.readerIndex(), found);
                }
                if (acc.readableBytes() >= (long) maxLength + dlen) {
                    throw new IOException("no delimiter within " + maxLength + " bytes on " + this);
                }
                searchFrom = Math.max(0, acc.readableBytes() - dlen + 1);
            }
        } finally {
            if (acc != null) {
                acc.release();
            }
        }
    }

    /** The offset (from the reader index) of {@code d} in {@code b}, searching from offset {@code from}; -1 if absent. */
    private static int indexOf(ByteBuf b, byte[] d, int from) {
        int start = b.readerIndex();
        int last = b.readableBytes() - d.length;
        outer:
        for (int i = from; i <= last; i++) {
            for (int j = 0; j < d.length; j++) {
                if (b.getByte(start + i + j) != d[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    // ------------------------------------------------------------------ writing

    @Override
    public void write(ByteBuf buf) throws IOException {
        writeObject(buf, "write()");
    }

    @Override
    public void write(byte[] bytes) throws IOException {
        checkLoop("write()");
        checkWritable();
        if (bytes.length == 0) {
            return;
        }
        write(ch.alloc().buffer(bytes.length).writeBytes(bytes));
    }

    @Override
    public void write(String text) throws IOException {
        checkLoop("write()");
        checkWritable();
        if (text.isEmpty()) {
            return;
        }
        write(ByteBufUtil.writeUtf8(ch.alloc(), text));
    }

    @Override
    public void idleTimeout(Duration timeout) {
        checkLoop("idleTimeout()");
        super.idleTimeout(timeout);
    }

    @Override
    public Duration idleTimeout() {
        return super.idleTimeout();
    }
}
