/**
 * Reads a QR code from a photo: the browser's BarcodeDetector where it exists
 * (Android Chrome), otherwise jsQR on the image's pixels. The photo comes from
 * the file picker, which on a phone offers the camera directly.
 */
import jsQR from 'jsqr';

interface Detector {
  detect(source: ImageBitmap): Promise<{ rawValue: string }[]>;
}
type DetectorClass = new (options: { formats: string[] }) => Detector;

export async function readQrFromFile(file: File): Promise<string> {
  const bitmap = await createImageBitmap(file);
  try {
    const Native = (globalThis as { BarcodeDetector?: DetectorClass }).BarcodeDetector;
    if (Native) {
      try {
        const found = await new Native({ formats: ['qr_code'] }).detect(bitmap);
        if (found[0]?.rawValue) return found[0].rawValue;
      } catch {
        // an unsupported format list or platform: fall through to jsQR
      }
    }
    // Large camera photos are scaled down: jsQR's time grows with the pixel count.
    const scale = Math.min(1, 1200 / Math.max(bitmap.width, bitmap.height));
    const width = Math.max(1, Math.round(bitmap.width * scale));
    const height = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext('2d', { willReadFrequently: true });
    if (!context) throw new Error('this browser cannot read images');
    context.drawImage(bitmap, 0, 0, width, height);
    const pixels = context.getImageData(0, 0, width, height);
    const code = jsQR(pixels.data, width, height, { inversionAttempts: 'attemptBoth' });
    if (!code) throw new Error('no QR code found in that photo: hold the label flat and fill the frame');
    return code.data;
  } finally {
    bitmap.close();
  }
}
