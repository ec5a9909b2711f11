namespace Coffer.Hsm;
