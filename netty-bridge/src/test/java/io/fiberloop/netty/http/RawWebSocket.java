package io.fiberloop.netty.http;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A WebSocket client over a raw socket that writes exactly the frames a test asks for, however
 * wrong (unmasked, fragmented control frames, invalid UTF-8, oversized): for the hostile cases.
 */
final class RawWebSocket implements AutoCloseable {
    static final int CONT = 0, TEXT = 1, BINARY = 2, CLOSE = 8, PING = 9, PONG = 10;

    record Frame(boolean fin, int opcode, byte[] payload) {
        String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }

        int closeCode() {
            return payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : -1;
        }
    }

    final Socket socket;
    private final OutputStream out;
    private final DataInputStream in;
    final String responseHead;

    RawWebSocket(int port, String path, String... extraHeaders) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        socket.setTcpNoDelay(true);
        out = socket.getOutputStream();
        in = new DataInputStream(new java.io.BufferedInputStream(socket.getInputStream()));
        byte[] nonce = new byte[16];
        ThreadLocalRandom.current().nextBytes(nonce);
        StringBuilder req = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(nonce) + "\r\nSec-WebSocket-Version: 13\r\n");
        for (int i = 0; i < extraHeaders.length; i += 2) {
            req.append(extraHeaders[i]).append(": ").append(extraHeaders[i + 1]).append("\r\n");
        }
        req.append("\r\n");
        out.write(req.toString().getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        StringBuilder head = new StringBuilder();
        while (head.length() < 4 || !head.substring(head.length() - 4).equals("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                throw new EOFException("no handshake answer: " + head);
            }
            head.append((char) c);
        }
        responseHead = head.toString();
    }

    boolean upgraded() {
        return responseHead.startsWith("HTTP/1.1 101");
    }

    /** Writes one frame, masked unless {@code masked} is false. */
    RawWebSocket frame(boolean fin, int opcode, byte[] payload, boolean masked) throws IOException {
        out.write(encode(fin, opcode, payload, masked));
        out.flush();
        return this;
    }

    RawWebSocket frame(boolean fin, int opcode, byte[] payload) throws IOException {
        return frame(fin, opcode, payload, true);
    }

    RawWebSocket text(String s) throws IOException {
        return frame(true, TEXT, s.getBytes(StandardCharsets.UTF_8));
    }

    RawWebSocket close(int code) throws IOException {
        return frame(true, CLOSE, new byte[] {(byte) (code >> 8), (byte) code});
    }

    static byte[] encode(boolean fin, int opcode, byte[] payload, boolean masked) {
        ByteArrayOutputStream b = new ByteArrayOutputStream(payload.length + 14);
        b.write((fin ? 0x80 : 0) | opcode);
        int mask = masked ? 0x80 : 0;
        if (payload.length < 126) {
            b.write(mask | payload.length);
        } else if (payload.length < 65536) {
            b.write(mask | 126);
            b.write(payload.length >> 8);
            b.write(payload.length);
        } else {
            b.write(mask | 127);
            long n = payload.length;
            for (int i = 7; i >= 0; i--) {
                b.write((int) (n >> (8 * i)));
            }
        }
        if (masked) {
            byte[] key = new byte[4];
            ThreadLocalRandom.current().nextBytes(key);
            b.write(key, 0, 4);
            for (int i = 0; i < payload.length; i++) {
                b.write(payload[i] ^ key[i & 3]);
            }
        } else {
            b.write(payload, 0, payload.length);
        }
        return b.toByteArray();
    }

    /**
     * Reads the next frame from the server (never masked), skipping its keep-alive pings: a server
     * with a ping interval sends them whenever the interval passes, so how many come before a given
     * frame depends on how long the test took, not on what the server does with the test's frames.
     */
    Frame read() throws IOException {
        for (;;) {
            Frame f = readAny();
            if (f.opcode() != PING) {
                return f;
            }
        }
    }

    /** Reads the next frame from the server, whatever it is. */
    Frame readAny() throws IOException {
        int b0 = in.readUnsignedByte();
        int b1 = in.readUnsignedByte();
        long len = b1 & 0x7f;
        if (len == 126) {
            len = in.readUnsignedShort();
        } else if (len == 127) {
            len = in.readLong();
        }
        byte[] payload = new byte[(int) len];
        in.readFully(payload);
        return new Frame((b0 & 0x80) != 0, b0 & 0x0f, payload);
    }

    /** Reads frames until a close frame, skipping others; returns it. */
    Frame readUntilClose() throws IOException {
        for (;;) {
            Frame f = read();
            if (f.opcode() == CLOSE) {
                return f;
            }
        }
    }

    /** Whether the server closed the TCP connection (EOF or reset) within the socket timeout. */
    boolean closedByServer() throws IOException {
        try {
            InputStream s = in;
            for (;;) {
                if (s.read() < 0) {
                    return true;
                }
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
