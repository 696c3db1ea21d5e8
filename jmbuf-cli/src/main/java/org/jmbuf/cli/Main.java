package org.jmbuf.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code jmbuf} program. Each job is a subcommand; run without one it prints its help.
 */
@Command(name = "jmbuf",
        mixinStandardHelpOptions = true,
        version = "jmbuf 0.1.0",
        description = "BSD mbuf packet buffers with the new mbuf API, in Java.",
        subcommands = {DemoCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Runs the program and exits with its status: 0 on success, 2 for a usage error. */
    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }
}
