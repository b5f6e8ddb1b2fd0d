// The slice of autocannon's API the http-middleware benchmark uses (the package ships no types).
declare module 'autocannon' {
  interface AutocannonOptions {
    url: string;
    connections?: number;
    duration?: number;
  }
  interface AutocannonResult {
    requests: { average: number };
  }
  export default function autocannon(options: AutocannonOptions): Promise<AutocannonResult>;
}
