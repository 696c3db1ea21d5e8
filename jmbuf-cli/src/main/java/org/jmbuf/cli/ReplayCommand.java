package org.jmbuf.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.io.CaptureReplay;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code jmbuf replay}: runs every packet of capture files through a jmbuf host, straight from the
 * read-only mapping of each file, and reports what the host made of them. With no file it replays the
 * embedded sample session.
 */
@Command(name = "replay",
        mixinStandardHelpOptions = true,
        description = {
            "Run the packets of pcap or pcapng files through a jmbuf host, zero copy from the read-only",
            "mapped file, and report what the stack did with them. Without FILE, replay an embedded sample",
            "session (ARP, neighbour discovery, pings and UDP over IPv4 and IPv6)."},
        footer = {"", "Examples:",
            "  jmbuf replay                         the embedded sample",
            "  jmbuf replay capture.pcapng          one file",
            "  jmbuf replay --netstat *.pcap        several, with every counter of the stack"})
final class ReplayCommand implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", arity = "0..*", description = "Capture files (pcap or pcapng).")
    private List<Path> files = new ArrayList<>();

    @Option(names = "--netstat", description = "Also print the host's counters for each file (netstat -s style).")
    private boolean netstat;

    @Option(names = "--no-progress", description = "Do not draw the progress bar on large files.")
    private boolean noProgress;

    @Override
    public Integer call() throws IOException {
        PrintStream out = System.out;
        List<Path> inputs = files;
        Path sample = null;
        if (inputs.isEmpty()) {
            sample = Files.createTempFile("jmbuf-sample-", ".pcapng");
            int frames = SampleCapture.write(sample);
            out.printf("No capture given: replaying the embedded sample session (%d frames).%n%n", frames);
            inputs = List.of(sample);
        }
        int status = 0;
        List<String[]> rows = new ArrayList<>();
        try {
            for (Path file : inputs) {
                if (!Files.isRegularFile(file)) {
                    System.err.println("jmbuf replay: " + file + ": no such file");
                    status = 1;
                    continue;
                }
                MbufPool pool = MbufPool.builder().build();
                long size = Files.size(file);
                ProgressBar bar = !noProgress && size > 16 << 20 ? new ProgressBar(System.err, file, size) : null;
                CaptureReplay.Report r;
                try {
                    r = CaptureReplay.replay(file, pool, bar == null ? null : bar::update);
                } catch (IOException e) {
                    System.err.println("jmbuf replay: " + file + ": " + e.getMessage());
                    status = 1;
                    continue;
                } finally {
                    if (bar != null) {
                        bar.finish();
                    }
                }
                String name = sample != null && file.equals(sample) ? "(embedded sample)" : file.toString();
                rows.add(new String[] {name, Long.toString(r.packets()), Long.toString(r.ipv4()),
                        Long.toString(r.ipv6()), Long.toString(r.skipped()), Long.toString(r.sent()),
                        Integer.toString(r.failures().size()), r.formatError() == null ? "" : "truncated or corrupt"});
                if (netstat) {
                    out.println(name + ":");
                    out.print(r.netstat().indent(2));
                    out.println();
                }
                for (String failure : r.failures()) {
                    System.err.println("jmbuf replay: " + name + ": the stack failed on " + failure);
                    status = 1;
                }
                if (r.formatError() != null) {
                    System.err.println("jmbuf replay: " + r.formatError());
                }
                if (!pool.stats().isQuiescent()) {
                    System.err.println("jmbuf replay: " + name + ": buffers left in use after the replay:\n" + pool.stats());
                    status = 1;
                }
            }
        } finally {
            if (sample != null) {
                Files.deleteIfExists(sample);
            }
        }
        Table.print(out, new String[] {"capture", "packets", "IPv4", "IPv6", "skipped", "sent", "failures", "file"},
                rows);
        return status;
    }
}
