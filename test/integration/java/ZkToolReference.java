/*
 * ZkToolReference.java — runs Apache ZooKeeper's own data-directory tools
 * (from /usr/share/java/zookeeper.jar) in one JVM, each with its output in
 * a file, so test_zktool*.sh can compare zktool with them line by line:
 *
 *   toolkit FILE OUT         org.apache.zookeeper.server.persistence.TxnLogToolkit FILE
 *   snapshot FILE OUT        org.apache.zookeeper.server.SnapshotFormatter FILE
 *   snapshot-d FILE OUT      ... -d FILE
 *   snapshot-json FILE OUT   ... -json FILE (once per JVM: its inode counter is static)
 *   logformatter FILE OUT    the LogFormatter of ZooKeeper 3.5 (removed in 3.7),
 *                            rebuilt from its source on 3.8's classes: the header,
 *                            then per record the same prefix as TxnLogToolkit and
 *                            the txn's Record.toString(), printed with println
 *
 * Arguments come in triples; the JVM runs every triple and exits 0.
 */
import java.io.EOFException;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.text.DateFormat;
import java.util.Date;
import java.util.zip.Adler32;

import org.apache.jute.BinaryInputArchive;
import org.apache.jute.Record;
import org.apache.zookeeper.server.Request;
import org.apache.zookeeper.server.SnapshotFormatter;
import org.apache.zookeeper.server.TxnLogEntry;
import org.apache.zookeeper.server.persistence.FileHeader;
import org.apache.zookeeper.server.persistence.TxnLogToolkit;
import org.apache.zookeeper.server.util.SerializeUtils;
import org.apache.zookeeper.txn.TxnHeader;

public class ZkToolReference {
    static void logFormatter35(String file) throws Exception {
        try (FileInputStream fis = new FileInputStream(file)) {
            BinaryInputArchive logStream = BinaryInputArchive.getArchive(fis);
            FileHeader fhdr = new FileHeader();
            fhdr.deserialize(logStream, "fileheader");
            System.out.println("ZooKeeper Transactional Log File with dbid " + fhdr.getDbid()
                               + " txnlog format version " + fhdr.getVersion());
            int count = 0;
            while (true) {
                long crcValue;
                byte[] bytes;
                try {
                    crcValue = logStream.readLong("crcvalue");
                    bytes = logStream.readBuffer("txnEntry");
                } catch (EOFException e) {
                    System.out.println("EOF reached after " + count + " txns.");
                    return;
                }
                if (bytes.length == 0) {
                    System.out.println("EOF reached after " + count + " txns.");
                    return;
                }
                Adler32 crc = new Adler32();
                crc.update(bytes, 0, bytes.length);
                if (crcValue != crc.getValue()) {
                    throw new Exception("CRC doesn't match " + crcValue + " vs " + crc.getValue());
                }
                TxnLogEntry entry = SerializeUtils.deserializeTxn(bytes);
                TxnHeader hdr = entry.getHeader();
                Record txn = entry.getTxn();
                System.out.println(
                    DateFormat.getDateTimeInstance(DateFormat.SHORT, DateFormat.LONG).format(new Date(hdr.getTime()))
                    + " session 0x" + Long.toHexString(hdr.getClientId())
                    + " cxid 0x" + Long.toHexString(hdr.getCxid())
                    + " zxid 0x" + Long.toHexString(hdr.getZxid())
                    + " " + Request.op2String(hdr.getType())
                    + " " + txn);
                if (logStream.readByte("EOR") != 'B') {
                    throw new EOFException("Last transaction was partial.");
                }
                count++;
            }
        }
    }

    public static void main(String[] args) throws Exception {
        PrintStream stdout = System.out;
        for (int i = 0; i + 2 < args.length; i += 3) {
            String mode = args[i], file = args[i + 1], out = args[i + 2];
            try (PrintStream ps = new PrintStream(new FileOutputStream(out), true, "UTF-8")) {
                System.setOut(ps);
                switch (mode) {
                case "toolkit":
                    TxnLogToolkit.main(new String[] { file });
                    break;
                case "snapshot":
                    SnapshotFormatter.main(new String[] { file });
                    break;
                case "snapshot-d":
                    SnapshotFormatter.main(new String[] { "-d", file });
                    break;
                case "snapshot-json":
                    SnapshotFormatter.main(new String[] { "-json", file });
                    break;
                case "logformatter":
                    logFormatter35(file);
                    break;
                default:
                    throw new IllegalArgumentException("unknown mode " + mode);
                }
            } finally {
                System.setOut(stdout);
            }
        }
    }
}
