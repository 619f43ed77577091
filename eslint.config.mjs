// Lint rules the test command enforces (npm run lint): ESLint's and typescript-eslint's
// recommended rules for every TypeScript file, the type-aware rules that catch a promise
// left floating, passed where a callback's result is ignored, or an await of a non-promise,
// over the whole tree: the stand-in plugins' JavaScript in toolchain/ too (typed by
// toolchain/tsconfig.json, checkJs).
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

const typeAware = {
    "@typescript-eslint/no-floating-promises": "error",
    "@typescript-eslint/no-misused-promises": "error",
    "@typescript-eslint/await-thenable": "error",
};

export default tseslint.config(
    { ignores: ["node_modules/", "dist/", "agent/dist/", "reports/", "**/node_modules/"] },
    { files: ["**/*.ts"], extends: [js.configs.recommended, ...tseslint.configs.recommended] },
    {
        files: ["**/*.ts", "toolchain/**/*.js"],
        languageOptions: { parser: tseslint.parser, parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
        plugins: { "@typescript-eslint": tseslint.plugin },
        rules: typeAware,
    },
    {
        files: ["toolchain/**/*.js"],
        extends: [js.configs.recommended],
        languageOptions: { sourceType: "commonjs", globals: globals.node },
        // `const crypto = require("crypto")` is how these files get Node's module, not a clash with the web global.
        rules: { "no-redeclare": ["error", { builtinGlobals: false }] },
    },
    {
        files: ["**/*.ts"],
        rules: {
            // Unused arguments and destructured rest siblings are fine when prefixed with "_".
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", ignoreRestSiblings: true }],
        },
    },
    {
        // Tests handle loosely typed data (mocked resource inputs, JSON answers) on purpose.
        files: ["test/**/*.ts"],
        rules: { "@typescript-eslint/no-explicit-any": "off" },
    },
);
