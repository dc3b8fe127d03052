import { z } from 'zod';
import type { NachaFile } from './nacha-file';

/**
 * moov-io/ach's JSON of a parsed file, read into a NachaFile. The shape is checked, not trusted:
 * an answer without the fields the wallet relies on is a fault of the library, reported as such.
 */

const amount = z
  .number()
  .int()
  .min(0)
  .max(9_999_999_999)
  .transform((value) => BigInt(value));

const moovEntry = z.object({
  transactionCode: z.number().int(),
  RDFIIdentification: z.string(),
  checkDigit: z.string(),
  DFIAccountNumber: z.string(),
  amount,
  identificationNumber: z.string().optional().default(''),
  individualName: z.string(),
  traceNumber: z.string(),
  addenda99: z.object({ returnCode: z.string(), originalTrace: z.string(), originalDFI: z.string() }).nullish(),
});

const moovBatch = z.object({
  batchHeader: z.object({
    companyName: z.string(),
    companyIdentification: z.string(),
    companyEntryDescription: z.string(),
    effectiveEntryDate: z.string(),
    ODFIIdentification: z.string(),
  }),
  entryDetails: z.array(moovEntry),
});

const moovFile = z.object({
  fileHeader: z.object({
    immediateDestination: z.string(),
    immediateOrigin: z.string(),
    fileCreationDate: z.string(),
    fileCreationTime: z.string().optional().default(''),
    fileIDModifier: z.string(),
    immediateDestinationName: z.string().optional().default(''),
    immediateOriginName: z.string().optional().default(''),
  }),
  batches: z.array(moovBatch).nullable(),
});

export function fromMoovJson(json: unknown): NachaFile {
  const parsed = moovFile.safeParse(json);
  if (!parsed.success) throw new Error(`ACH server answered a file of an unexpected shape: ${parsed.error.message}`);
  const { fileHeader: header, batches } = parsed.data;
  return {
    destinationRouting: header.immediateDestination.trim(),
    originRouting: header.immediateOrigin.trim(),
    destinationName: header.immediateDestinationName.trim(),
    originName: header.immediateOriginName.trim(),
    creationDate: header.fileCreationDate,
    creationTime: header.fileCreationTime,
    idModifier: header.fileIDModifier,
    batches: (batches ?? []).map(({ batchHeader, entryDetails }) => ({
      companyName: batchHeader.companyName.trim(),
      companyIdentification: batchHeader.companyIdentification.trim(),
      entryDescription: batchHeader.companyEntryDescription.trim(),
      effectiveDate: batchHeader.effectiveEntryDate,
      odfiPrefix: batchHeader.ODFIIdentification,
      entries: entryDetails.map((entry) => ({
        transactionCode: entry.transactionCode,
        routingNumber: `${entry.RDFIIdentification}${entry.checkDigit}`,
        accountNumber: entry.DFIAccountNumber.trim(),
        amountMinor: entry.amount,
        individualName: entry.individualName.trim(),
        identificationNumber: entry.identificationNumber.trim(),
        traceNumber: entry.traceNumber,
        ...(entry.addenda99
          ? {
              return: {
                code: entry.addenda99.returnCode,
                originalTraceNumber: entry.addenda99.originalTrace,
                originalRoutingPrefix: entry.addenda99.originalDFI,
              },
            }
          : {}),
      })),
    })),
  };
}
