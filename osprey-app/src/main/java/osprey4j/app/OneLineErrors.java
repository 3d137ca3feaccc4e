package osprey4j.app;

import java.io.PrintWriter;
import picocli.CommandLine;

/**
 * Turns failures into one line on stderr: usage mistakes exit 2, failures of the work itself exit 1.
 * Set OSPREY_DEBUG=1 to get the stack trace as well.
 */
final class OneLineErrors implements CommandLine.IExecutionExceptionHandler {
    static final boolean DEBUG = System.getenv("OSPREY_DEBUG") != null;

    @Override
    public int handleExecutionException(Exception ex, CommandLine cl, CommandLine.ParseResult parseResult) {
        PrintWriter err = cl.getErr();
        err.println(prefix(cl) + message(ex));
        if (DEBUG) {
            ex.printStackTrace(err);
        }
        err.flush();
        return ex instanceof UsageException ? 2 : 1;
    }

    static int handleParameterException(CommandLine.ParameterException ex, String[] args) {
        CommandLine cl = ex.getCommandLine();
        PrintWriter err = cl.getErr();
        err.println(prefix(cl) + ex.getMessage().strip() + " (see '" + cl.getCommandSpec().qualifiedName(" ")
                + " --help')");
        err.flush();
        return 2;
    }

    /** "osprey: " for the top level, "osprey checkpoint ls: " for a subcommand. */
    static String prefix(CommandLine cl) {
        return cl.getCommandSpec().qualifiedName(" ") + ": ";
    }

    static String message(Throwable ex) {
        String m = ex.getMessage();
        if (m == null || m.isBlank()) {
            m = ex.getClass().getSimpleName();
        }
        return m.replace('\n', ' ').strip();
    }
}
