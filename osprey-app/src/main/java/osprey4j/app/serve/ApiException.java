package osprey4j.app.serve;

/**
 * A request refused with an HTTP status and an OpenAI-style error body
 * ({@code {"error": {"message", "type", "param", "code"}}}).
 */
final class ApiException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    final int status;
    final String type;
    final String code;
    final String param;
    /** Seconds for a Retry-After header; 0 for none. */
    final int retryAfter;

    ApiException(int status, String type, String code, String param, String message, int retryAfter) {
        super(message);
        this.status = status;
        this.type = type;
        this.code = code;
        this.param = param;
        this.retryAfter = retryAfter;
    }

    /** 400: the request is malformed or asks for something this server does not do. */
    static ApiException invalid(String message) {
        return new ApiException(400, "invalid_request_error", null, null, message, 0);
    }

    static ApiException invalid(String param, String message) {
        return new ApiException(400, "invalid_request_error", null, param, message, 0);
    }

    /** 400 with a code: a configured limit was passed. */
    static ApiException limit(String code, String param, String message) {
        return new ApiException(400, "invalid_request_error", code, param, message, 0);
    }

    static ApiException tooLarge(String message) {
        return new ApiException(413, "invalid_request_error", "payload_too_large", null, message, 0);
    }

    static ApiException notFound(String message) {
        return new ApiException(404, "invalid_request_error", "not_found", null, message, 0);
    }

    static ApiException busy(int retryAfter, String message) {
        return new ApiException(503, "server_busy", "queue_full", null, message, retryAfter);
    }
}
