package io.fiberloop.netty.http;

/**
 * Thrown by a handler (or by the server, e.g. when a request body is too large or malformed) to
 * answer with a given status instead of {@code 500}. Not logged as an error.
 * {@snippet :
 * String id = req.pathParam("id");
 * if (!id.chars().allMatch(Character::isDigit)) {
 *     throw new HttpException(400, "id must be a number");
 * }
 * }
 */
public class HttpException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    /** The response status. */
    private final int status;

    /**
     * An error response with a plain-text body.
     *
     * @param status the response status (400..599)
     * @param message the plain-text body of the response
     * @throws IllegalArgumentException if {@code status} is not an error status
     */
    public HttpException(int status, String message) {
        super(message);
        if (status < 400 || status > 599) {
            throw new IllegalArgumentException("an HttpException carries an error status (400..599), not " + status);
        }
        this.status = status;
    }

    /**
     * An error response with a plain-text body, caused by {@code cause}.
     *
     * @param status the response status (400..599)
     * @param message the plain-text body of the response
     * @param cause the cause
     */
    public HttpException(int status, String message, Throwable cause) {
        this(status, message);
        initCause(cause);
    }

    /** {@return the response status} */
    public int status() {
        return status;
    }
}
