package io.fiberloop.netty.http;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** A tiny HTTP/1.1 client over a raw socket, for pipelining and hostile input. */
final class RawHttp implements AutoCloseable {
    record Resp(int status, Map<String, String> headers, byte[] body) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    final Socket socket;
    final InputStream in;
    final OutputStream out;

    RawHttp(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        socket.setTcpNoDelay(true);
        in = new java.io.BufferedInputStream(socket.getInputStream(), 64 * 1024);
        out = socket.getOutputStream();
    }

    RawHttp send(String s) throws IOException {
        return send(s.getBytes(StandardCharsets.ISO_8859_1));
    }

    RawHttp send(byte[] b) throws IOException {
        out.write(b);
        out.flush();
        return this;
    }

    /** Reads one response (GET/POST semantics: a body by Content-Length or chunked), or null at EOF. */
    Resp read() throws IOException {
        return read(false);
    }

    Resp read(boolean head) throws IOException {
        String status = line();
        if (status == null) {
            return null;
        }
        Map<String, String> h = new LinkedHashMap<>();
        String l;
        while (!(l = line()).isEmpty()) {
            int c = l.indexOf(':');
            h.put(l.substring(0, c).trim().toLowerCase(Locale.ROOT), l.substring(c + 1).trim());
        }
        int code = Integer.parseInt(status.split(" ")[1]);
        byte[] body;
        if (head || code < 200 || code == 204 || code == 304) {
            body = new byte[0];
        } else if (h.containsKey("content-length")) {
            body = in.readNBytes(Integer.parseInt(h.get("content-length")));
        } else if ("chunked".equalsIgnoreCase(h.get("transfer-encoding"))) {
            ByteArrayOutputStream bo = new ByteArrayOutputStream();
            for (;;) {
                int n = Integer.parseInt(line().trim(), 16);
                if (n == 0) {
                    while (!line().isEmpty()) {
                        // trailers
                    }
                    break;
                }
                bo.write(in.readNBytes(n));
                line();
            }
            body = bo.toByteArray();
        } else {
            body = in.readAllBytes();
        }
        return new Resp(code, h, body);
    }

    private String line() throws IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) != -1) {
            if (c == '\n') {
                int n = sb.length();
                if (n > 0 && sb.charAt(n - 1) == '\r') {
                    sb.setLength(n - 1);
                }
                return sb.toString();
            }
            sb.append((char) c);
        }
        if (sb.length() == 0) {
            return null;
        }
        throw new EOFException("end of stream in a line: " + sb);
    }

    /** Whether the server closed the connection (EOF or reset) within the socket timeout. */
    boolean closedByServer() throws IOException {
        try {
            return in.read() == -1;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    static String get(String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
    }
}
