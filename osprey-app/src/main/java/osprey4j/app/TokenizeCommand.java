package osprey4j.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import osprey4j.core.prompt.ChatTemplate;
import osprey4j.core.prompt.QuestionPrompt;
import osprey4j.core.prompt.RegionPrompt;
import osprey4j.model.OspreyTokens;
import osprey4j.model.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code osprey tokenize}: the ids and pieces the model's tokenizer makes of a text. */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = {"Print the token ids and pieces of TEXT as the model's tokenizer makes them "
                + "(with <mask> and <pos> added as Osprey adds them)."})
final class TokenizeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR",
            description = "Checkpoint directory with tokenizer.json or tokenizer.model.")
    Path model;

    @Parameters(index = "0", paramLabel = "TEXT", description = "The text to tokenize.")
    String text;

    @Option(names = "--slow", description = "Behave like transformers' slow LlamaTokenizer (spaces around added "
            + "tokens stripped; legacy flag from tokenizer_config.json) instead of the fast tokenizer the model "
            + "was trained with.")
    boolean slow;

    @Option(names = "--prompt", description = "Treat TEXT as a model prompt: split at <image>, each part encoded "
            + "on its own, BOS only on the first, the image shown as id " + OspreyTokens.IMAGE_TOKEN_ID + ".")
    boolean prompt;

    @Option(names = "--chat", description = "Treat TEXT as a question the way 'osprey ask' does: <region1>, "
            + "<region2>... become <mask><pos>, the image preamble goes first (unless TEXT has <image>), the "
            + "osprey_v1 template wraps it, and the result is encoded as with --prompt.")
    boolean chat;

    @Option(names = "--no-special", description = "Do not add BOS.")
    boolean noSpecial;

    @Option(names = "--json", description = "Print {\"ids\", \"pieces\", \"mode\"} as JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (!Files.isDirectory(model)) {
            throw new UsageException("model directory not found: " + model);
        }
        if (!Files.exists(model.resolve("tokenizer.json")) && !Files.exists(model.resolve("tokenizer.model"))) {
            throw new UsageException(model + " has neither tokenizer.json nor tokenizer.model");
        }
        if ((prompt || chat) && noSpecial) {
            throw new UsageException("--prompt/--chat and --no-special cannot be combined (a prompt starts with BOS)");
        }
        String input = text;
        if (chat) {
            try {
                input = QuestionPrompt.of(ChatTemplate.OSPREY_V1, text, referencedRegions(text)).text();
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage());
            }
        }
        Tokenizer.Mode mode = slow ? Tokenizer.slowModeOf(model) : Tokenizer.Mode.FAST;
        Tokenizer tokenizer;
        try {
            tokenizer = OspreyTokens.loadTokenizer(model, mode);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        int[] ids = prompt || chat ? OspreyTokens.encodePrompt(tokenizer, input) : tokenizer.encode(input, !noSpecial);
        List<String> pieces = OspreyTokens.pieces(tokenizer, ids);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            ObjectMapper mapper = new ObjectMapper();
            ObjectNode root = mapper.createObjectNode();
            ArrayNode idArray = root.putArray("ids");
            for (int id : ids) {
                idArray.add(id);
            }
            ArrayNode pieceArray = root.putArray("pieces");
            pieces.forEach(pieceArray::add);
            root.put("mode", mode.name().toLowerCase(java.util.Locale.ROOT));
            out.println(mapper.writeValueAsString(root));
        } else {
            for (int i = 0; i < ids.length; i++) {
                out.printf("%d\t%s%n", ids[i], visible(pieces.get(i)));
            }
            out.printf("%d tokens (%s)%n", ids.length, mode.name().toLowerCase(java.util.Locale.ROOT));
        }
        out.flush();
        return 0;
    }

    /** How many masks a question implies: its highest <regionN>, or its number of raw <mask><pos>. */
    static int referencedRegions(String question) {
        java.util.regex.Matcher m = RegionPrompt.REFERENCE.matcher(question);
        int max = 0;
        while (m.find()) {
            if (m.group(1).length() <= 6) { // a longer number is left to resolve() to refuse
                max = Math.max(max, Integer.parseInt(m.group(1)));
            }
        }
        if (max > 0) {
            return max;
        }
        return question.split(java.util.regex.Pattern.quote(RegionPrompt.REGION_TOKENS), -1).length - 1;
    }

    /** Control characters in a piece shown as escapes, so each token stays on one line. */
    static String visible(String piece) {
        StringBuilder sb = new StringBuilder();
        piece.codePoints().forEach(cp -> {
            switch (cp) {
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                case '\r' -> sb.append("\\r");
                default -> {
                    if (Character.isISOControl(cp)) {
                        sb.append(String.format("\\u%04x", cp));
                    } else {
                        sb.appendCodePoint(cp);
                    }
                }
            }
        });
        return sb.toString();
    }
}
