package osprey4j.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import osprey4j.core.io.Checkpoint;
import osprey4j.core.io.Checkpoints;
import osprey4j.core.io.TensorInfo;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code osprey checkpoint ...}: look inside checkpoint files. */
@Command(name = "checkpoint", mixinStandardHelpOptions = true,
        description = "Inspect checkpoint files (safetensors, PyTorch .bin/.pt, sharded directories).",
        subcommands = {CheckpointCommand.Ls.class})
final class CheckpointCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand (ls)");
    }

    /** {@code osprey checkpoint ls PATH [--json]}: every tensor with its dtype and shape, and the totals. */
    @Command(name = "ls", mixinStandardHelpOptions = true,
            description = {"List the tensors of a checkpoint: name, dtype, shape (and, for a directory, the file"
                    + " holding each), then the tensor count, parameter count and bytes.",
                    "PATH is a .safetensors file, a torch.save file (.bin/.pt/.pth), an *.index.json, or a"
                            + " Hugging Face model directory."})
    static final class Ls implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Parameters(index = "0", paramLabel = "PATH", description = "Checkpoint file or directory.")
        Path path;

        @Option(names = "--json", description = "Print a JSON object instead of a table.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            if (!Files.exists(path)) {
                throw new UsageException(path + ": no such file or directory");
            }
            PrintWriter out = spec.commandLine().getOut();
            try (Checkpoint ckpt = Checkpoints.open(path)) {
                Path base = Files.isDirectory(path) ? path.toAbsolutePath().normalize() : null;
                if (json) {
                    printJson(out, ckpt, base);
                } else {
                    printTable(out, ckpt, base);
                }
            }
            out.flush();
            return 0;
        }

        private void printTable(PrintWriter out, Checkpoint ckpt, Path base) {
            List<TensorInfo> tensors = ckpt.tensors();
            String[][] rows = new String[tensors.size()][];
            int[] widths = {"name".length(), "dtype".length(), "shape".length()};
            for (int i = 0; i < rows.length; i++) {
                TensorInfo t = tensors.get(i);
                rows[i] = new String[] {t.name(), t.dtype().safetensorsName(), Arrays.toString(t.shape()),
                        base == null ? "" : fileName(base, t)};
                for (int c = 0; c < widths.length; c++) {
                    widths[c] = Math.max(widths[c], rows[i][c].length());
                }
            }
            String format = "%-" + widths[0] + "s  %-" + widths[1] + "s  %-" + widths[2] + "s";
            String header = String.format(format, "name", "dtype", "shape") + (base == null ? "" : "  file");
            out.println(header.stripTrailing());
            for (String[] row : rows) {
                String line = String.format(format, row[0], row[1], row[2]) + (base == null ? "" : "  " + row[3]);
                out.println(line.stripTrailing());
            }
            Totals totals = Totals.of(tensors);
            out.printf(Locale.ROOT, "%d tensors, %,d parameters, %s (%,d bytes)%n", tensors.size(), totals.parameters,
                    humanBytes(totals.bytes), totals.bytes);
        }

        private void printJson(PrintWriter out, Checkpoint ckpt, Path base) throws Exception {
            ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            ObjectNode root = mapper.createObjectNode();
            root.put("path", path.toString());
            ArrayNode list = root.putArray("tensors");
            for (TensorInfo t : ckpt.tensors()) {
                ObjectNode n = list.addObject();
                n.put("name", t.name());
                n.put("dtype", t.dtype().safetensorsName());
                ArrayNode shape = n.putArray("shape");
                for (long d : t.shape()) {
                    shape.add(d);
                }
                n.put("parameters", t.numel());
                n.put("bytes", t.byteSize());
                if (base != null) {
                    n.put("file", fileName(base, t));
                }
            }
            Totals totals = Totals.of(ckpt.tensors());
            ObjectNode total = root.putObject("total");
            total.put("tensors", ckpt.tensors().size());
            total.put("parameters", totals.parameters);
            total.put("bytes", totals.bytes);
            ObjectNode metadata = root.putObject("metadata");
            ckpt.metadata().forEach(metadata::put);
            out.println(mapper.writeValueAsString(root));
        }

        private static String fileName(Path base, TensorInfo t) {
            Path file = t.file().toAbsolutePath().normalize();
            return file.startsWith(base) ? base.relativize(file).toString() : file.toString();
        }
    }

    private record Totals(long parameters, long bytes) {
        static Totals of(List<TensorInfo> tensors) {
            long parameters = 0;
            long bytes = 0;
            for (TensorInfo t : tensors) {
                parameters += t.numel();
                bytes += t.byteSize();
            }
            return new Totals(parameters, bytes);
        }
    }

    static String humanBytes(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? bytes + " B" : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
