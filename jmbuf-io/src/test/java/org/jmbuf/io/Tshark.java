package org.jmbuf.io;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/** Runs {@code tshark -r} on a file, if tshark is installed at /usr/bin/tshark; tests skip otherwise. */
final class Tshark {
    static final Path TSHARK = Path.of("/usr/bin/tshark");

    private Tshark() {
    }

    /** The exit status and everything tshark printed. */
    record Result(int exitStatus, String output) {
    }

    /** Skips the calling test, saying why, if tshark is not installed. */
    static void assumeInstalled() {
        if (!Files.isExecutable(TSHARK)) {
            String reason = "tshark is not installed at " + TSHARK + ": skipping the check that Wireshark reads the files"
                    + " jmbuf writes (install the tshark package to run it)";
            System.out.println("SKIPPED: " + reason);
            Assumptions.abort(reason);
        }
    }

    static Result read(Path file) throws IOException, InterruptedException {
        // Checksum validation on, so a bad checksum shows as "[... incorrect" / "ILLEGAL CHECKSUM" in the output.
        return run(TSHARK.toString(), "-n", "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-r",
                file.toString());
    }

    /** One line per packet with the given fields ({@code tshark -T fields -e ...}), tab-separated. */
    static Result fields(Path file, String... fields) throws IOException, InterruptedException {
        java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of(TSHARK.toString(), "-n", "-r",
                file.toString(), "-T", "fields"));
        for (String f : fields) {
            command.add("-e");
            command.add(f);
        }
        return run(command.toArray(String[]::new));
    }

    private static Result run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("tshark did not finish: " + String.join(" ", command));
        }
        String text = new String(out, StandardCharsets.UTF_8).lines()
                .filter(l -> !l.startsWith("Running as user")) // tshark's warning when CI runs it as root
                .map(l -> l + "\n").reduce("", String::concat);
        return new Result(p.exitValue(), text);
    }
}
