package io.fiberloop.netty;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A self-signed certificate for 127.0.0.1/localhost, made at test time by the JDK's keytool (no
 * download, no BouncyCastle), and the server and client TLS contexts built on it. Public for the
 * HTTP server's tests in the {@code http} package.
 */
public final class TestCerts {
    private static final char[] PASSWORD = "changeit".toCharArray();
    private static TestCerts instance;

    final KeyManagerFactory keyManagers;
    /** The self-signed certificate (for 127.0.0.1 and localhost), for a client's trust manager. */
    public final X509Certificate certificate;

    private TestCerts(KeyManagerFactory kmf, X509Certificate cert) {
        this.keyManagers = kmf;
        this.certificate = cert;
    }

    /** @return the one certificate of this test run, made on first use */
    public static synchronized TestCerts get() throws Exception {
        if (instance == null) {
            instance = generate();
        }
        return instance;
    }

    private static TestCerts generate() throws Exception {
        Path dir = Files.createTempDirectory("fiberloop-tls");
        Path ks = dir.resolve("server.p12");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        Process p = new ProcessBuilder(List.of(keytool, "-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=localhost", "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-validity", "2",
                "-keystore", ks.toString(), "-storetype", "PKCS12", "-storepass", new String(PASSWORD), "-keypass", new String(PASSWORD)))
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("keytool failed: " + out);
        }
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(ks)) {
            store.load(in, PASSWORD);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, PASSWORD);
        X509Certificate cert = (X509Certificate) store.getCertificate("server");
        Files.delete(ks);
        Files.delete(dir);
        return new TestCerts(kmf, cert);
    }

    /** @return a Netty server context with the test certificate */
    public SslContext server() throws Exception {
        return SslContextBuilder.forServer(keyManagers).build();
    }

    /** @return the key managers with the test certificate and its key */
    public KeyManagerFactory keyManagers() {
        return keyManagers;
    }

    /** @return a Netty server context with the test certificate that offers h2 and http/1.1 by ALPN */
    public SslContext serverWithAlpn() throws Exception {
        return SslContextBuilder.forServer(keyManagers).applicationProtocolConfig(io.fiberloop.netty.http.Http2Options.alpn()).build();
    }

    /** @return a client context that trusts the test certificate only and offers h2 and http/1.1 by ALPN */
    public SslContext trustingClientWithAlpn() throws Exception {
        return SslContextBuilder.forClient().trustManager(certificate).applicationProtocolConfig(io.fiberloop.netty.http.Http2Options.alpn()).build();
    }

    /** A client context that trusts the test certificate only. */
    SslContext trustingClient() throws Exception {
        return SslContextBuilder.forClient().trustManager(certificate).build();
    }

    /** A client context with the JDK's default trust store: it does not trust the test certificate. */
    SslContext defaultClient() throws Exception {
        return SslContextBuilder.forClient().build();
    }

    /** @return a JDK {@code SSLContext} (for the JDK's {@code HttpClient}, say) that trusts the test certificate only */
    public SSLContext trustingJdkClient() throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("server", certificate);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }
}
