package osprey4j.app;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import osprey4j.core.mask.Mask;
import osprey4j.data.coco.CocoMasks;
import osprey4j.model.Chat;
import osprey4j.model.GenerationOptions;
import osprey4j.model.image.RgbImage;
import osprey4j.service.ChatSession;
import osprey4j.service.InvalidRequestException;
import osprey4j.service.OspreyService;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import osprey4j.model.sam.Sam;
import osprey4j.service.SegmentRequest;
import osprey4j.service.SegmentService;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code osprey chat}: a conversation about regions of one image. Parses lines and prints; the conversation is the
 * service's {@link ChatSession}.
 */
@Command(name = "chat", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "A multi-turn conversation about regions of an image: each line is a question that sees the earlier"
                        + " questions and answers; the image is encoded once and each turn runs only its new tokens.",
                "At a terminal: line editing and history, commands as /help lists them. With piped input: one"
                        + " question or command per line, answers on stdout, errors on stderr, nothing else."})
final class ChatCommand implements Callable<Integer> {
    static final String HELP = """
            Ask a question about the image; <region1>, <region2>... refer to the regions. Commands:
              /mask PNG            add a region from a mask image of the image's size
              /box x1,y1,x2,y2     add a region from a box: with --sam SAM's mask of the object in it,
                                   without the rectangle itself (pixels, x2 and y2 exclusive)
              /point x,y           add a region from a click on the object (needs --sam CKPT)
              /regions             list the regions
              /reset               forget the turns (the image and the regions stay)
              /save FILE           write the conversation as an Osprey-724K record (JSON)
              /greedy              decode greedily from now on
              /temperature T       sample at temperature T from now on
              /help                this text
              /quit                end the chat""";

    @Spec
    CommandSpec spec;

    @Mixin
    ModelAndImageOptions input;

    @ArgGroup(exclusive = true, multiplicity = "0..*", heading = "Regions to start with (in order):%n")
    List<RegionInputs.Region> regions;

    @Option(names = "--sam", paramLabel = "CKPT", description = "SAM checkpoint: --point/--box and /point, /box become"
            + " SAM's mask of the object (the image is encoded for SAM once).")
    Path sam;

    private SegmentService samService;
    private RgbImage chatImage;
    private Sam.Embedding samEmbedding;

    @Mixin
    GenerationMixin generation;

    private GenerationOptions options;
    private final List<String> regionSources = new ArrayList<>();

    @Override
    public Integer call() throws IOException {
        options = generation.options(spec.commandLine().getParseResult());
        RgbImage img = ModelSupport.readImage(input.image);
        List<Mask> masks = RegionInputs.masks(regions == null ? List.of() : regions, input.image, img, sam);
        if (regions != null) {
            for (RegionInputs.Region r : regions) {
                regionSources.add(r.source() + (sam != null && r.mask == null ? " (SAM)" : ""));
            }
        }
        try {
            if (sam != null) {
                samService = SamInputs.load(sam);
            }
            return chat(img, masks);
        } finally {
            if (samService != null) {
                samService.close();
            }
        }
    }

    private int chat(RgbImage img, List<Mask> masks) throws IOException {
        chatImage = img;
        boolean terminal = System.console() != null && System.console().isTerminal();
        try (OspreyService service = ModelSupport.loadService(input.model, spec.commandLine());
             ChatSession chat = service.chat(img, input.image.toString(), ModelSupport.warner(spec.commandLine()))) {
            for (Mask m : masks) {
                chat.addRegion(m);
            }
            return terminal ? interactive(chat) : piped(chat);
        }
    }

    /** One line per turn or command from stdin; answers on stdout, errors on stderr. */
    private int piped(ChatSession chat) throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (!handle(line, chat, out, err, false)) {
                break;
            }
        }
        return 0;
    }

    /** A JLine prompt with line editing and history (kept in ~/.osprey_chat_history). */
    private int interactive(ChatSession chat) throws IOException {
        try (Terminal terminal = TerminalBuilder.builder().system(true).build()) {
            LineReader reader = LineReaderBuilder.builder().terminal(terminal).appName("osprey")
                    .variable(LineReader.HISTORY_FILE, Path.of(System.getProperty("user.home"), ".osprey_chat_history"))
                    .build();
            PrintWriter out = terminal.writer();
            out.println("osprey chat: " + input.image + " (" + chat.width() + "x" + chat.height() + "), "
                    + chat.regions().size() + (chat.regions().size() == 1 ? " region" : " regions")
                    + "; /help for commands, /quit to end");
            out.flush();
            while (true) {
                String line;
                try {
                    line = reader.readLine("> ");
                } catch (UserInterruptException e) {
                    continue;
                } catch (EndOfFileException e) {
                    return 0;
                }
                if (!handle(line, chat, out, out, true)) {
                    return 0;
                }
            }
        }
    }

    /** SAM's single mask for a /point or /box, encoding the image for SAM on first use. */
    private Mask samMask(ChatSession chat, String arg, boolean box) {
        SegmentRequest request = box
                ? new SegmentRequest(input.image.toString(), List.of(), SamInputs.box(arg), false)
                : new SegmentRequest(input.image.toString(), List.of(SamInputs.point(arg)), null, false);
        try {
            request.prompt().check(chat.width(), chat.height());
        } catch (IllegalArgumentException e) {
            throw new UsageException((box ? "/box " : "/point ") + arg + ": " + e.getMessage());
        }
        if (samEmbedding == null) {
            samEmbedding = samService.encode(chatImage);
        }
        return ModelSupport.serviceCall(() -> samService.segment(samEmbedding, request)).bestMask().segmentation();
    }

    /** Runs one line; false to end the chat. Every error is one line and keeps the conversation. */
    private boolean handle(String raw, ChatSession chat, PrintWriter out, PrintWriter err, boolean interactive) {
        String line = raw.strip();
        if (line.isEmpty()) {
            return true;
        }
        try {
            if (!line.startsWith("/")) {
                ask(line, chat, out);
                return true;
            }
            String[] parts = line.split("\\s+", 2);
            String arg = parts.length > 1 ? parts[1].strip() : "";
            switch (parts[0]) {
                case "/quit", "/exit" -> {
                    return false;
                }
                case "/help" -> out.println(HELP);
                case "/mask" -> {
                    requireArg(arg, "/mask PNG");
                    Mask m = RegionInputs.readPng(Path.of(arg), chat.regions().size() + 1, chat.width(),
                            chat.height());
                    added(chat, m, "mask " + arg, out, interactive);
                }
                case "/box" -> {
                    requireArg(arg, "/box x1,y1,x2,y2");
                    Mask m;
                    try {
                        m = samService != null ? samMask(chat, arg, true) : RegionInputs.box(arg, chat.width(), chat.height());
                    } catch (UsageException e) {
                        throw new UsageException(e.getMessage().replaceFirst("^--box", "/box"));
                    }
                    added(chat, m, "box " + arg + (samService != null ? " (SAM)" : ""), out, interactive);
                }
                case "/point" -> {
                    requireArg(arg, "/point x,y");
                    if (samService == null) {
                        throw new UsageException("/point needs SAM to turn a click into a mask: start the chat with"
                                + " --sam CKPT, or give the region as /mask PNG or /box x1,y1,x2,y2");
                    }
                    Mask m;
                    try {
                        m = samMask(chat, arg, false);
                    } catch (UsageException e) {
                        throw new UsageException(e.getMessage().replaceFirst("^--point", "/point"));
                    }
                    added(chat, m, "point " + arg + " (SAM)", out, interactive);
                }
                case "/regions" -> {
                    List<Mask> rs = chat.regions();
                    if (rs.isEmpty()) {
                        out.println("no regions (add one with /mask PNG or /box x1,y1,x2,y2)");
                    }
                    for (int i = 0; i < rs.size(); i++) {
                        double[] b = CocoMasks.toBbox(rs.get(i));
                        out.printf("<region%d>  %s  (%d pixels, box x=%.0f y=%.0f w=%.0f h=%.0f)%n", i + 1,
                                regionSources.get(i), rs.get(i).area(), b[0], b[1], b[2], b[3]);
                    }
                }
                case "/reset" -> {
                    chat.reset();
                    if (interactive) {
                        out.println("conversation reset; the image and " + chat.regions().size() + " regions stay");
                    }
                }
                case "/save" -> {
                    requireArg(arg, "/save FILE");
                    chat.save(Path.of(arg));
                    if (interactive) {
                        out.println("saved " + chat.turns().size() + " turns to " + arg);
                    }
                }
                case "/greedy" -> {
                    options = GenerationOptions.greedy(options.maxNewTokens());
                    if (interactive) {
                        out.println("greedy decoding");
                    }
                }
                case "/temperature" -> {
                    requireArg(arg, "/temperature T");
                    float t;
                    try {
                        t = Float.parseFloat(arg);
                    } catch (NumberFormatException e) {
                        throw new UsageException("/temperature " + arg + ": not a number");
                    }
                    try {
                        // top-p, top-k and seed as the flags gave them (their defaults after --greedy)
                        options = new GenerationOptions(false, t, generation.topP, generation.topK, generation.seed,
                                options.maxNewTokens());
                    } catch (IllegalArgumentException e) {
                        throw new UsageException("/temperature: " + e.getMessage());
                    }
                    if (interactive) {
                        out.println("sampling at temperature " + t);
                    }
                }
                default -> throw new UsageException("unknown command " + parts[0] + " (/help lists the commands;"
                        + " a question does not start with '/')");
            }
        } catch (UsageException | InvalidRequestException e) {
            error(err, e.getMessage());
        } catch (Chat.ContextFullException e) {
            error(err, e.getMessage() + "; /reset starts over with the same image and regions");
        }
        out.flush();
        return true;
    }

    private void ask(String question, ChatSession chat, PrintWriter out) {
        chat.ask(question, options, (id, text) -> {
            if (!text.isEmpty()) {
                out.print(text);
                out.flush();
            }
        });
        out.println();
        out.flush();
    }

    private void added(ChatSession chat, Mask m, String source, PrintWriter out, boolean interactive) {
        int n = chat.addRegion(m);
        regionSources.add(source);
        if (interactive) {
            out.println("<region" + n + "> added (" + m.area() + " pixels)");
        }
    }

    private static void requireArg(String arg, String usage) {
        if (arg.isEmpty()) {
            throw new UsageException("usage: " + usage);
        }
    }

    private void error(PrintWriter err, String message) {
        err.println(OneLineErrors.prefix(spec.commandLine()) + message.replace('\n', ' '));
        err.flush();
    }
}
