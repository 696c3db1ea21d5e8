package org.jmbuf.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.io.CaptureFormatException;
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
            "  jmbuf replay --netstat *.pcap        several, with every counter of the stack",
            "  jmbuf replay --ip 192.0.2.2/24 --write sent.pcapng in.pcap",
            "                                       as host 192.0.2.2, keeping what it sent",
            "  jmbuf replay --json *.pcapng         reports for machines"})
final class ReplayCommand implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", arity = "0..*", description = "Capture files (pcap or pcapng).")
    private List<Path> files = new ArrayList<>();

    @Option(names = "--netstat", description = "Also print the host's counters for each file (every non-zero counter, as a table).")
    private boolean netstat;

    @Option(names = "--no-progress", description = "Do not draw the progress bar on large files.")
    private boolean noProgress;

    @Option(names = "--json", description = "Print the reports as JSON (for machines) instead of tables.")
    private boolean json;

    @Option(names = "--ip", paramLabel = "ADDRESS[/LEN]",
            description = {"An address of the replay host (repeatable, either family). Without --ip the host",
                "takes the destination of every unicast packet as its own."})
    private List<String> addresses = new ArrayList<>();

    @Option(names = "--write", paramLabel = "FILE",
            description = "Write what the host sent (pcapng, raw IP) to FILE; one input file only.")
    private Path write;

    @Override
    public Integer call() throws IOException {
        PrintStream out = System.out;
        List<CaptureReplay.Assignment> assignments = new ArrayList<>();
        try {
            for (String a : addresses) {
                assignments.add(CaptureReplay.Assignment.parse(a));
            }
        } catch (IllegalArgumentException e) {
            System.err.println("jmbuf replay: " + e.getMessage());
            return 2;
        }
        if (write != null && files.size() > 1) {
            System.err.println("jmbuf replay: --write takes one input file, not " + files.size());
            return 2;
        }
        CaptureReplay.Options options = new CaptureReplay.Options(assignments, write);
        List<CaptureReplay.Report> reports = new ArrayList<>();
        List<Path> inputs = files;
        Path sample = null;
        if (inputs.isEmpty()) {
            sample = Files.createTempFile("jmbuf-sample-", ".pcapng");
            int frames = SampleCapture.write(sample);
            if (!json) {
                out.printf("No capture given: replaying the embedded sample session (%d frames).%n%n", frames);
            }
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
                    r = CaptureReplay.replay(file, pool, options, bar == null ? null : bar::update);
                } catch (IOException e) {
                    System.err.println("jmbuf replay: " + file + ": " + e.getMessage());
                    status = 1;
                    continue;
                } catch (CaptureFormatException e) {
                    System.err.println("jmbuf replay: " + e.getMessage()); // names the file and the offset
                    rows.add(new String[] {file.toString(), "0", "0", "0", "0", "0", "0", "not a capture"});
                    status = 1;
                    continue;
                } finally {
                    if (bar != null) {
                        bar.finish();
                    }
                }
                String name = sample != null && file.equals(sample) ? "(embedded sample)" : file.toString();
                reports.add(r);
                rows.add(new String[] {name, Long.toString(r.packets()), Long.toString(r.ipv4()),
                        Long.toString(r.ipv6()), Long.toString(r.skipped()), Long.toString(r.sent()),
                        Integer.toString(r.failures().size()), r.formatError() == null ? "" : "truncated or corrupt"});
                if (netstat && !json) {
                    out.println(name + ":");
                    CounterTable.print(out, null, r.groups());
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
        if (json) {
            out.println(Json.reports(reports, sample));
        } else {
            Table.print(out, new String[] {"capture", "packets", "IPv4", "IPv6", "skipped", "sent", "failures",
                "file"}, rows);
            if (write != null) {
                out.println("\nWhat the host sent is in " + write.toAbsolutePath());
            }
        }
        return status;
    }
}
