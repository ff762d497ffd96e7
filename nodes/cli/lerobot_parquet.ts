import { fileWriter, ParquetWriter, type ColumnSource } from "hyparquet-writer";
import { huggingfaceFeatures, type Feature } from "../../src/lerobot/lerobot_format.js";

/** hyparquet's schema element (hyparquet is hyparquet-writer's own dependency, not ours). */
type SchemaElement = ConstructorParameters<typeof ParquetWriter>[0]["schema"][number];

/** One row group's values, column by column (the features of the parquet, in order). */
export type ParquetColumns = Record<string, unknown[]>;

/** The parquet primitive of a scalar feature dtype. */
const PRIMITIVE = { float32: "FLOAT", int64: "INT64", bool: "BOOLEAN" } as const;

/**
 * The parquet schema of a LeRobot episode file, shaped as pyarrow writes what `datasets` hands
 * it: every column nullable (OPTIONAL) as Arrow fields are by default; a vector feature a
 * three-level LIST of its element type; an image feature the struct {bytes: binary, path:
 * string} that datasets' Image feature stores. Video features are not in the parquet.
 */
export function lerobotParquetSchema(features: Record<string, Feature>): SchemaElement[] {
  const columns = Object.entries(features).filter(([, f]) => f.dtype !== "video");
  const schema: SchemaElement[] = [{ name: "schema", num_children: columns.length }];
  for (const [name, f] of columns) {
    if (f.dtype === "image") {
      schema.push(
        { name, repetition_type: "OPTIONAL", num_children: 2 },
        { name: "bytes", type: "BYTE_ARRAY", repetition_type: "OPTIONAL" },
        { name: "path", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" },
      );
    } else if (f.dtype === "video") {
      continue;
    } else if (f.shape.length === 1 && f.shape[0] === 1) {
      schema.push({ name, type: PRIMITIVE[f.dtype], repetition_type: "OPTIONAL" });
    } else {
      schema.push(
        { name, repetition_type: "OPTIONAL", converted_type: "LIST", num_children: 1 },
        { name: "list", repetition_type: "REPEATED", num_children: 1 },
        { name: "element", type: PRIMITIVE[f.dtype], repetition_type: "OPTIONAL" },
      );
    }
  }
  return schema;
}

/**
 * An episode's parquet file written row group by row group (hyparquet-writer's ParquetWriter
 * over its buffered file writer), so an image episode never holds more than one group of
 * PNGs: a `datasets` image dataset's row groups are 100 rows for the same reason. The file's
 * `huggingface` metadata carries the features (lerobot_format.ts huggingfaceFeatures).
 */
export class EpisodeParquet {
  private readonly writer: ParquetWriter;
  private readonly names: string[];
  rows = 0;

  constructor(path: string, features: Record<string, Feature>, createdBy: string) {
    this.names = Object.entries(features).filter(([, f]) => f.dtype !== "video").map(([k]) => k);
    this.writer = new ParquetWriter({
      writer: fileWriter(path),
      schema: lerobotParquetSchema(features),
      codec: "SNAPPY",
      kvMetadata: [{ key: "huggingface", value: huggingfaceFeatures(features) }],
      createdBy,
    });
  }

  /** One row group: every column of the features, the same number of values each. */
  write(columns: ParquetColumns): void {
    const n = columns[this.names[0]]?.length ?? 0;
    const columnData: ColumnSource[] = this.names.map((name) => {
      const data = columns[name];
      if (!data || data.length !== n) throw new Error(`parquet row group: column ${name} has ${data?.length ?? 0} values, ${n} expected`);
      return { name, data };
    });
    if (n === 0) return;
    void this.writer.write({ columnData, rowGroupSize: n });
    this.rows += n;
  }

  finish(): void {
    void this.writer.finish();
  }
}
