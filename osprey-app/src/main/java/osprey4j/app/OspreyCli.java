package osprey4j.app;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code osprey} command line. Each command lives in its own class and is registered here.
 * Errors from bad input end as one line on stderr and a non-zero exit (2 for usage, 1 for failures).
 */
@Command(name = "osprey", mixinStandardHelpOptions = true, versionProvider = OspreyCli.Version.class,
        description = "Osprey region understanding on the JVM: ask questions about image regions given as masks.",
        subcommands = {
                CheckpointCommand.class,
                BenchCommand.class,
                TokenizeCommand.class,
                MaskCommand.class,
                SegmentCommand.class,
                DataCommand.class,
                AskCommand.class,
                ChatCommand.class,
                DescribeCommand.class,
                InspectCommand.class,
                ServeCommand.class,
                EvalCommand.class,
                TrainCommand.class,
                QuantizeCommand.class,
                SparkCommand.class,
                CommandLine.HelpCommand.class
        })
public final class OspreyCli implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command; see 'osprey --help'");
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the CLI and returns its exit code (used by tests, which must not call System.exit). */
    public static int execute(String... args) {
        return newCommandLine().execute(args);
    }

    /** Runs the CLI with its output and error streams redirected (for tests); returns the exit code. */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cl = newCommandLine();
        cl.setOut(out);
        cl.setErr(err);
        try {
            return cl.execute(args);
        } finally {
            out.flush();
            err.flush();
        }
    }

    static CommandLine newCommandLine() {
        CommandLine cl = new CommandLine(new OspreyCli());
        cl.setExecutionExceptionHandler(new OneLineErrors());
        cl.setParameterExceptionHandler(OneLineErrors::handleParameterException);
        return cl;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = OspreyCli.class.getPackage().getImplementationVersion();
            return new String[] {"osprey4j " + (v == null ? "0.1.0-SNAPSHOT" : v)
                    + " (Java " + Runtime.version() + ")"};
        }
    }
}
