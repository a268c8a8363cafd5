/** Writes the bench's generated CSV to the path given (for the memory run). */
import { writeFileSync } from "node:fs";
import { generateCsv } from "./generate";

writeFileSync(process.argv[2]!, generateCsv().text);
