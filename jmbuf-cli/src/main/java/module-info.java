module org.jmbuf.cli {
    requires org.jmbuf.io;
    requires info.picocli;
    opens org.jmbuf.cli to info.picocli;
}
