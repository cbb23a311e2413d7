// Produces raw-page messages with the official Java client, the way a JVM scraper would:
// one producer per compression codec, values read one per line from a file, each record with
// headers the worker has never heard of, and no key.
//
//   java -cp '<kafka libs>/*' JavaProducer.java BOOTSTRAP TOPIC CODEC=VALUES_FILE...
// Prints "codec partition offset" per record sent.
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class JavaProducer {
    public static void main(String[] args) throws Exception {
        for (int i = 2; i < args.length; i++) {
            String codec = args[i].split("=", 2)[0];
            List<String> values = Files.readAllLines(Path.of(args[i].split("=", 2)[1]));
            Properties props = new Properties();
            props.put("bootstrap.servers", args[0]);
            props.put("compression.type", codec);
            props.put("acks", "all");
            props.put("linger.ms", "50");
            props.put("key.serializer", ByteArraySerializer.class.getName());
            props.put("value.serializer", ByteArraySerializer.class.getName());
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
                var futures = new java.util.ArrayList<java.util.concurrent.Future<RecordMetadata>>();
                for (String value : values) {
                    var record = new ProducerRecord<byte[], byte[]>(args[1], null, value.getBytes("UTF-8"));
                    record.headers().add("x-scraper-trace", new byte[] {(byte) 0xff, 0, 1});
                    record.headers().add("content-type", "application/json".getBytes("UTF-8"));
                    futures.add(producer.send(record));
                }
                for (var future : futures) {
                    RecordMetadata meta = future.get();
                    System.out.println(codec + " " + meta.partition() + " " + meta.offset());
                }
            }
        }
    }
}
